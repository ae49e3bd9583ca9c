import { isSovError, SovError } from '@sov/core';

// A key or a pointer into a deep value can be very long; the message keeps both ends.
const shorten = (s: string): string => (s.length <= 240 ? s : `${s.slice(0, 160)}…${s.slice(-60)}`);

/**
 * A value refused by a state store because it is not plain JSON or is past
 * one of the store's bounds (depth, size). Names the key, the JSON pointer
 * of the bad part (`/` for the whole value) and why.
 */
export class NotSerializableError extends SovError {
  /** The state key the value was written to. */
  readonly key: string;
  /** JSON pointer to the offending part of the value. */
  readonly path: string;
  /** What was wrong with it, in words. */
  readonly reason: string;

  constructor(key: string, path: string, reason: string, options: { cause?: unknown } = {}) {
    super('NOT_SERIALIZABLE', `Cannot store state key "${shorten(key)}": value at ${shorten(path)} ${reason}`, {
      ...options,
      details: { key: shorten(key), path: shorten(path), reason },
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
