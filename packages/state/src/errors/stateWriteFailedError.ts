import { isSovError, SovError } from '@sov/core';
import './stateErrorCodes'; // registers this package's error codes with core, also when this file is loaded without the index

/**
 * A write the store could not make durable (disk full, I/O error, a snapshot
 * that cannot be renamed into place). Nothing of the refused write was
 * acknowledged or kept; the store stays open and retries on the next write.
 * The file system's error is the `cause`.
 */
export class StateWriteFailedError extends SovError {
  /** The file being written. */
  readonly path: string;
  /** What was being done to it: `write`, `fdatasync`, `fsync`, `rename`, `truncate`, `open` ... */
  readonly operation: string;
  /** The file system's error code (`ENOSPC`, `EIO`, `EXDEV` ...), when it gave one. */
  readonly errno: string | undefined;

  constructor(operation: string, path: string, cause: unknown, consequence = 'the write was not applied') {
    const errno = typeof (cause as { code?: unknown } | null)?.code === 'string' ? (cause as { code: string }).code : undefined;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('STATE_WRITE_FAILED', `State write failed: ${operation} of ${path} failed (${reason}); ${consequence}`, {
      cause,
      details: { operation, path, errno },
    });
    this.name = 'StateWriteFailedError';
    this.path = path;
    this.operation = operation;
    this.errno = errno;
  }
}

/** Whether a value is a StateWriteFailedError (from any copy of the package). */
export function isStateWriteFailedError(value: unknown): value is StateWriteFailedError {
  return value instanceof StateWriteFailedError || (isSovError(value) && value.name === 'StateWriteFailedError');
}
