import { jsonDepthProblem } from './jsonLimits';

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('jsonDepthProblem', () => {
  it('accepts scalars and values within the bound', () => {
    expect(jsonDepthProblem(1, 2)).toBeUndefined();
    expect(jsonDepthProblem(null, 0)).toBeUndefined();
    expect(jsonDepthProblem({ a: [1, { b: 2 }] }, 3)).toBeUndefined();
    expect(jsonDepthProblem(nested(64))).toBeUndefined();
  });

  it('names the first part past the bound', () => {
    expect(jsonDepthProblem({ a: [1, { b: { c: 1 } }] }, 3)).toEqual({ path: '/a/1/b', reason: 'is nested deeper than 3 levels' });
    expect(jsonDepthProblem([[]], 1)).toEqual({ path: '/0', reason: 'is nested deeper than 1 levels' });
    expect(jsonDepthProblem({ 'x/y~': {} }, 1)?.path).toBe('/x~1y~0');
  });

  it('walks values far deeper than the stack without overflowing', () => {
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown;
    expect(jsonDepthProblem(deep)?.reason).toBe('is nested deeper than 64 levels');
    expect(jsonDepthProblem(nested(65))?.path).toBe(`/${Array.from({ length: 64 }, () => 'a').join('/')}`);
  });

  it('reports a cycle as too deep instead of looping', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(jsonDepthProblem(a, 10)?.reason).toBe('is nested deeper than 10 levels');
  });
});
