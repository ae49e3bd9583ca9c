/**
 * The JSON text of a value with every object's keys sorted (by UTF-16
 * code units, RFC 8785's order), so params that differ only in key order name the
 * same cache entry. Follows JSON.stringify otherwise (toJSON, undefined and
 * functions left out of objects and null in arrays, NaN as null); throws as
 * it does on a BigInt, and with a RangeError on a cycle.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const withJson = value as { toJSON?: unknown };
  if (typeof withJson.toJSON === 'function') return canonicalJson((withJson.toJSON as () => unknown).call(value));
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) out += ',';
      out += item === null || typeof item !== 'object' ? (JSON.stringify(item) ?? 'null') : canonicalJson(item);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
}
