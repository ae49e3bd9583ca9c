import { defineErrorCodes } from '@sov/core';

declare module '@sov/core' {
  interface SovErrorCodeMap extends StateErrorCodeTable {}
}

/**
 * The error codes `@sov/state` owns, with the HTTP status each is sent with.
 * Registered with `@sov/core` when the package loads; unique across packages.
 * A value that is not JSON is core's NOT_SERIALIZABLE (sealed messages and
 * journaled events refuse it too).
 */
export const STATE_ERROR_CODES = defineErrorCodes('@sov/state', {
  /** Another process holds the state directory's lock (`StateLockedError`). */
  STATE_LOCKED: 423,
  /** A snapshot or journal is damaged beyond what recovery repairs (`StateCorruptError`). */
  STATE_CORRUPT: 500,
  /** The store is not open: before `open()`, after `close()` or after a failed write closed it (`StateClosedError`). */
  STATE_CLOSED: 500,
  /** The store could not write (disk full, I/O error); nothing was acknowledged (`StateWriteFailedError`). */
  STATE_WRITE_FAILED: 503,
} as const);

/** An error code of `@sov/state`. */
export type StateErrorCode = keyof typeof STATE_ERROR_CODES;
type StateErrorCodeTable = typeof STATE_ERROR_CODES;
