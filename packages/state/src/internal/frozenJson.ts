import { NotSerializableError } from '../errors/notSerializableError';
import type { ResolvedStateLimits } from '../stateLimits';
import type { JsonValue } from '../stateStore';

const pointer = (parent: string, token: string | number): string =>
  `${parent === '/' ? '' : parent}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;

const MiB = 1024 * 1024;
/** A byte count as a reader wants it: `16 MiB`, `1.5 MiB`, `300 bytes`. */
export const formatBytes = (n: number): string => (n >= MiB && n % (MiB / 16) === 0 ? `${n / MiB} MiB` : `${n} bytes`);

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

/** A checked value: its frozen copy and its JSON text. */
export interface FrozenJson {
  value: JsonValue;
  json: string;
  /** Size of `json` in UTF-8 bytes. */
  bytes: number;
}

/**
 * Returns a deeply frozen copy of `value` and its JSON when it is plain JSON
 * within `limits`, or throws a NotSerializableError naming `key` and the JSON
 * pointer of the first bad part. Object properties whose value is undefined
 * are left out, as JSON.stringify does; everything else that JSON would
 * change is refused. The walk stops at the depth bound, so it never recurses
 * deeper than `limits.maxDepth`, and stops early once a lower bound of the
 * size passes `limits.maxValueBytes`.
 */
export function toFrozenJson(key: string, value: unknown, limits: ResolvedStateLimits): FrozenJson {
  const { maxDepth, maxValueBytes } = limits;
  const ancestors = new Set<object>();
  // A lower bound of the JSON size (every UTF-16 unit is at least one UTF-8 byte), to stop a huge walk early.
  let least = 0;
  const tooLarge = (path: string) =>
    new NotSerializableError(key, path, `makes the value larger than ${formatBytes(maxValueBytes)} as JSON (limits.maxValueBytes)`);
  const copy = (v: unknown, path: string, depth: number): JsonValue => {
    switch (typeof v) {
      case 'string':
        least += v.length + 2;
        if (least > maxValueBytes) throw tooLarge(path);
        return v;
      case 'boolean':
        least += 4;
        return v;
      case 'number':
        if (Number.isFinite(v)) {
          least += 1;
          return v;
        }
        throw new NotSerializableError(key, path, describe(v));
      case 'object': {
        if (v === null) {
          least += 4;
          return null;
        }
        if (ancestors.has(v)) throw new NotSerializableError(key, path, 'is a circular reference');
        if (depth >= maxDepth) throw new NotSerializableError(key, path, `is nested deeper than ${maxDepth} levels (limits.maxDepth)`);
        ancestors.add(v);
        let out: JsonValue;
        if (Array.isArray(v)) {
          least += 1 + Math.max(1, v.length);
          // Every item is at least one byte more: a wide array is refused before it is walked.
          if (least + v.length > maxValueBytes) throw tooLarge(path);
          const arr: JsonValue[] = new Array<JsonValue>(v.length);
          for (let i = 0; i < v.length; i++) {
            if (!(i in v)) throw new NotSerializableError(key, pointer(path, i), 'is a hole in a sparse array');
            arr[i] = copy(v[i], pointer(path, i), depth + 1);
          }
          out = Object.freeze(arr);
        } else {
          const proto: unknown = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) throw new NotSerializableError(key, path, describe(v));
          const obj: Record<string, JsonValue> = {};
          least += 2;
          let first = true;
          for (const k of Object.keys(v)) {
            const item = (v as Record<string, unknown>)[k];
            if (item === undefined) continue;
            // `"k":` and the comma before it.
            least += k.length + (first ? 3 : 4);
            first = false;
            if (least > maxValueBytes) throw tooLarge(path);
            // defineProperty, so a key named __proto__ stays an own property.
            Object.defineProperty(obj, k, { value: copy(item, pointer(path, k), depth + 1), enumerable: true, writable: true, configurable: true });
          }
          if (least > maxValueBytes) throw tooLarge(path);
          out = Object.freeze(obj);
        }
        ancestors.delete(v);
        return out;
      }
      default:
        throw new NotSerializableError(key, path, describe(v));
    }
  };
  let frozen: JsonValue;
  let json: string;
  try {
    frozen = copy(value, '/', 0);
    json = JSON.stringify(frozen);
  } catch (e) {
    // Only with a maxDepth configured beyond what the stack holds, or a value too large for one string.
    if (e instanceof RangeError) throw new NotSerializableError(key, '/', `cannot be serialised (${e.message}); lower limits.maxDepth or limits.maxValueBytes`, { cause: e });
    throw e;
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxValueBytes) throw new NotSerializableError(key, '/', `is ${bytes} bytes as JSON, more than ${formatBytes(maxValueBytes)} (limits.maxValueBytes)`);
  return { value: frozen, json, bytes };
}

/**
 * Deeply freezes a value parsed from JSON (which is plain by construction)
 * and returns it. Iterative: a value read back from disk may be of any depth.
 */
export function deepFreeze(value: unknown): JsonValue {
  if (typeof value !== 'object' || value === null) return value as JsonValue;
  const stack: object[] = [value];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) stack.push(item as object);
    } else {
      for (const k in v) {
        const item = (v as Record<string, unknown>)[k];
        if (typeof item === 'object' && item !== null) stack.push(item);
      }
    }
    Object.freeze(v);
  }
  return value as JsonValue;
}
