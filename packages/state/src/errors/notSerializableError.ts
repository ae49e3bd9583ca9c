import { isSovError, SovError } from '@sov/core';

/**
 * A value refused by a state store because it is not plain JSON. Names the
 * key, the JSON pointer of the bad part (`/` for the whole value) and why.
 */
export class NotSerializableError extends SovError {
  /** The state key the value was written to. */
  readonly key: string;
  /** JSON pointer to the offending part of the value. */
  readonly path: string;
  /** What was wrong with it, in words. */
  readonly reason: string;

  constructor(key: string, path: string, reason: string, options: { cause?: unknown } = {}) {
    super('NOT_SERIALIZABLE', `Cannot store state key "${key}": value at ${path} ${reason}`, {
      ...options,
      details: { key, path, reason },
    });
    this.name = 'NotSerializableError';
    this.key = key;
    this.path = path;
    this.reason = reason;
  }
}

/** Whether a value is a NotSerializableError (from any copy of the package). */
export function isNotSerializableError(value: unknown): value is NotSerializableError {
  return value instanceof NotSerializableError || (isSovError(value) && value.name === 'NotSerializableError');
}
