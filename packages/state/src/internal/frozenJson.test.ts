import { resolveStateLimits } from '../stateLimits';
import { deepFreeze, toFrozenJson } from './frozenJson';

const limits = (maxValueBytes: number, maxDepth = 64) => resolveStateLimits({ maxValueBytes, maxDepth }, 'test');

describe('toFrozenJson size bound', () => {
  // The early refusal works on a lower bound of the size: it must never refuse a value that fits exactly.
  const values: unknown[] = [
    0,
    -1.5e-7,
    true,
    false,
    null,
    '',
    'plain',
    'quote " backslash \\ newline \n tab \t',
    '日本語 🎉 \u2028 \u0000',
    [],
    {},
    [1, 2, 3],
    [[], [[]], {}],
    { a: 1 },
    { a: 1, b: undefined, c: [true, null], 'd"e': { f: 'g' } },
    { '': '', __proto__x: [0] },
    Array.from({ length: 50 }, (_, i) => ({ i, s: 'x'.repeat(i) })),
  ];
  it.each(values.map((v) => [JSON.stringify(v).slice(0, 40), v]))('accepts %s at exactly its size and refuses it one byte under', (_label, value) => {
    const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
    const ok = toFrozenJson('k', value, limits(bytes));
    expect(ok.json).toBe(JSON.stringify(value));
    expect(ok.bytes).toBe(bytes);
    if (bytes > 1) expect(() => toFrozenJson('k', value, limits(bytes - 1))).toThrow(expect.objectContaining({ code: 'NOT_SERIALIZABLE' }));
  });

  it('refuses a wide array before walking it, naming the pointer', () => {
    const wide = { list: new Array<number>(1000).fill(7) };
    expect(() => toFrozenJson('k', wide, limits(100))).toThrow(expect.objectContaining({ code: 'NOT_SERIALIZABLE', path: '/list' }));
  });
});

describe('toFrozenJson depth bound', () => {
  const nested = (depth: number) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };
  it('counts depth as core does: accepts maxDepth levels, refuses one more at the pointer of the deepest container', () => {
    expect(toFrozenJson('k', nested(3), limits(1000, 3)).json).toBe('[[[1]]]');
    expect(() => toFrozenJson('k', nested(4), limits(1000, 3))).toThrow(expect.objectContaining({ path: '/0/0/0', reason: expect.stringContaining('deeper than 3 levels') }));
  });
});

describe('deepFreeze', () => {
  it('freezes a value of any depth without recursion', () => {
    let v: unknown = { leaf: true };
    for (let i = 0; i < 200_000; i++) v = [v];
    const frozen = deepFreeze(v) as unknown[];
    expect(Object.isFrozen(frozen)).toBe(true);
    let inner: unknown = frozen;
    while (Array.isArray(inner)) inner = inner[0];
    expect(Object.isFrozen(inner)).toBe(true);
  });
});
