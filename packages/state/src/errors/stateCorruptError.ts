import { isSovError, SovError } from '@sov/core';
import './stateErrorCodes'; // registers this package's error codes with core, also when this file is loaded without the index

/** Stored state that cannot be read back as written: names the file and, when known, the byte offset. */
export class StateCorruptError extends SovError {
  /** The damaged file. */
  readonly path: string;
  /** Byte offset of the first damaged record, when known. */
  readonly offset: number | undefined;

  constructor(path: string, message: string, options: { offset?: number; cause?: unknown } = {}) {
    super('STATE_CORRUPT', message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: { path, offset: options.offset },
    });
    this.name = 'StateCorruptError';
    this.path = path;
    this.offset = options.offset;
  }
}

/** Whether a value is a StateCorruptError (from any copy of the package). */
export function isStateCorruptError(value: unknown): value is StateCorruptError {
  return value instanceof StateCorruptError || (isSovError(value) && value.name === 'StateCorruptError');
}
