import { paramsKey } from './paramsKey';

describe('paramsKey', () => {
  it('is the same for params that differ only in the order of object keys, at any depth', () => {
    expect(paramsKey({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(paramsKey({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  });

  it('follows JSON: toJSON, undefined and functions left out of objects, null in arrays, NaN and Infinity as null, -0 as 0', () => {
    const when = new Date(Date.UTC(2025, 0, 1));
    expect(paramsKey({ when })).toBe(paramsKey({ when: when.toISOString() }));
    expect(paramsKey({ a: 1, gone: undefined, f: () => 1 })).toBe(paramsKey({ a: 1 }));
    expect(paramsKey([undefined, () => 1, NaN, Infinity])).toBe(paramsKey([null, null, null, null]));
    expect(paramsKey({ n: -0 })).toBe(paramsKey({ n: 0 }));
    expect(paramsKey({ a: { toJSON: () => undefined } })).toBe(paramsKey({}));
  });

  it.each([
    [{ a: 1 }, { a: '1' }],
    [{ a: 1 }, { a: 1.0000000000000002 }],
    [{ a: null }, { a: false }],
    [{ a: true }, { a: 'true' }],
    [[1, [2]], [[1], 2]],
    [['a', 'bc'], ['ab', 'c']],
    [{ ab: 'c' }, { a: 'bc' }],
    [{ a: [] }, { a: {} }],
    [['\ud800'], ['\udbff']],
    [['é'], ['e\u0301']],
    [{ a: { b: 1 } }, { a: { b: 1 }, c: null }],
    // Arrays of 8 or more numbers take the one-copy path; they still differ from their neighbours.
    [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 9]],
    [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, '8']],
    [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8, 9]],
    [[[1, 2, 3, 4, 5, 6, 7, 8], [9]], [[1, 2, 3, 4, 5, 6, 7], [8, 9]]],
  ])('differs for %j and %j, whose JSON differs', (a, b) => {
    expect(paramsKey(a)).not.toBe(paramsKey(b));
  });

  it('keeps a large value as a short digest that still tells one reading apart (and grows past its first buffer)', () => {
    const big = { data: Array.from({ length: 5000 }, (_, i) => i / 7), text: 'x'.repeat(10_000) };
    const copy = { text: big.text, data: [...big.data] };
    expect(paramsKey(big)).toBe(paramsKey(copy));
    expect(paramsKey(big).length).toBe(33);
    copy.data[4999] = 0;
    expect(paramsKey(copy)).not.toBe(paramsKey(big));
    expect(paramsKey({ small: 1 })).toBe(paramsKey({ small: 1 }));
    expect(paramsKey({ small: 1 }).length).toBeLessThanOrEqual(65);
  });

  it('throws, as JSON.stringify does, on a BigInt and a cycle; the next key is still right', () => {
    expect(() => paramsKey({ n: 1n })).toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => paramsKey(cycle)).toThrow(RangeError);
    expect(paramsKey({ b: 2, a: 1 })).toBe(paramsKey({ a: 1, b: 2 }));
  });
});
