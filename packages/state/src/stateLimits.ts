import { DEFAULT_MAX_JSON_DEPTH, ValidationError } from '@sov/core';

/** Deepest nesting of a stored value by default: core's DEFAULT_MAX_JSON_DEPTH (64). */
export const DEFAULT_MAX_STATE_DEPTH = DEFAULT_MAX_JSON_DEPTH;
/** Largest serialised (UTF-8 JSON) size of one stored value by default: 16 MiB. */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;
/** Largest serialised size of one write (a set, an update or a whole batch: keys and values) by default: 64 MiB. */
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;

/**
 * Bounds every value is checked against before a store accepts it. A value
 * past a bound is refused with NOT_SERIALIZABLE and changes nothing; the
 * bounds keep every accepted value writable, readable and reopenable (a
 * recursive walk such as JSON.stringify overflows the stack a few thousand
 * levels down).
 */
export interface StateLimits {
  /**
   * Deepest nesting of a value: a scalar is depth 0, `[]` and `{}` depth 1,
   * `[[1]]` depth 2. @default 64 (DEFAULT_MAX_STATE_DEPTH)
   */
  maxDepth?: number;
  /** Largest size of one value, as UTF-8 JSON bytes. @default 16 MiB (DEFAULT_MAX_VALUE_BYTES) */
  maxValueBytes?: number;
  /**
   * Largest size of one write: the keys and values of a set, an update or a
   * whole batch, as UTF-8 JSON bytes. @default 64 MiB (DEFAULT_MAX_BATCH_BYTES)
   */
  maxBatchBytes?: number;
}

/** StateLimits with every bound filled in. */
export type ResolvedStateLimits = Required<StateLimits>;

/** Checks the bounds and fills in the defaults; throws a ValidationError for a bound that is not a positive integer. */
export function resolveStateLimits(limits: StateLimits | undefined, where: string): ResolvedStateLimits {
  const out: ResolvedStateLimits = {
    maxDepth: limits?.maxDepth ?? DEFAULT_MAX_STATE_DEPTH,
    maxValueBytes: limits?.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    maxBatchBytes: limits?.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
  };
  for (const field of ['maxDepth', 'maxValueBytes', 'maxBatchBytes'] as const) {
    const v = out[field];
    if (!(typeof v === 'number' && Number.isSafeInteger(v) && v > 0)) {
      throw new ValidationError(where, [{ path: `/limits/${field}`, message: `must be a positive integer, got ${String(v)}` }]);
    }
  }
  return out;
}
