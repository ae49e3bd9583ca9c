/**
 * JSON with object keys sorted (by UTF-16 code units, as RFC 8785 JCS does)
 * and no whitespace: the same value always gives the same bytes, whatever
 * order a sender or a relay wrote its keys in. Numbers are written as
 * JavaScript writes them, which is JCS's rule. Throws a TypeError on what
 * JSON cannot hold (undefined in an array, a function, a non-finite number,
 * a cycle is caught by the depth the caller already bounded).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}
