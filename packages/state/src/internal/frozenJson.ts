import { NotSerializableError } from '../errors/notSerializableError';
import type { JsonValue } from '../stateStore';

const pointer = (parent: string, token: string | number): string =>
  `${parent === '/' ? '' : parent}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function describe(value: unknown): string {
  if (value === undefined) return 'is undefined';
  if (typeof value === 'number') return `is ${String(value)}, not a finite number`;
  if (typeof value === 'bigint') return 'is a BigInt';
  if (typeof value === 'function') return 'is a function';
  if (typeof value === 'symbol') return 'is a symbol';
  if (typeof (value as { then?: unknown }).then === 'function') return 'is a Promise; resolve it first (update functions must be synchronous)';
  const ctor = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return `is a ${typeof ctor === 'string' && ctor !== '' ? ctor : 'non-plain object'}, not a plain object or array`;
}

/**
 * Returns a deeply frozen copy of `value` when it is plain JSON, or throws a
 * NotSerializableError naming `key` and the JSON pointer of the first bad
 * part. Object properties whose value is undefined are left out, as
 * JSON.stringify does; everything else that JSON would change is refused.
 */
export function toFrozenJson(key: string, value: unknown): JsonValue {
  const ancestors = new Set<object>();
  const copy = (v: unknown, path: string): JsonValue => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (Number.isFinite(v)) return v;
        throw new NotSerializableError(key, path, describe(v));
      case 'object': {
        if (v === null) return null;
        if (ancestors.has(v)) throw new NotSerializableError(key, path, 'is a circular reference');
        ancestors.add(v);
        let out: JsonValue;
        if (Array.isArray(v)) {
          const arr: JsonValue[] = new Array<JsonValue>(v.length);
          for (let i = 0; i < v.length; i++) {
            if (!(i in v)) throw new NotSerializableError(key, pointer(path, i), 'is a hole in a sparse array');
            arr[i] = copy(v[i], pointer(path, i));
          }
          out = Object.freeze(arr);
        } else {
          const proto: unknown = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) throw new NotSerializableError(key, path, describe(v));
          const obj: Record<string, JsonValue> = {};
          for (const k of Object.keys(v)) {
            const item = (v as Record<string, unknown>)[k];
            if (item === undefined) continue;
            // defineProperty, so a key named __proto__ stays an own property.
            Object.defineProperty(obj, k, { value: copy(item, pointer(path, k)), enumerable: true, writable: true, configurable: true });
          }
          out = Object.freeze(obj);
        }
        ancestors.delete(v);
        return out;
      }
      default:
        throw new NotSerializableError(key, path, describe(v));
    }
  };
  try {
    return copy(value, '/');
  } catch (e) {
    if (e instanceof RangeError) throw new NotSerializableError(key, '/', 'is nested too deeply', { cause: e });
    throw e;
  }
}

/** Deeply freezes a value parsed from JSON (which is plain by construction) and returns it. */
export function deepFreeze(value: unknown): JsonValue {
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) {
      for (const item of value) deepFreeze(item);
    } else {
      for (const k in value) deepFreeze((value as Record<string, unknown>)[k]);
    }
    Object.freeze(value);
  }
  return value as JsonValue;
}
