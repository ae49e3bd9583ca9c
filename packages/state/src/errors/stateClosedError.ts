import { isSovError, SovError } from '@sov/core';
import './stateErrorCodes'; // registers this package's error codes with core, also when this file is loaded without the index

/** A state store used before open(), after close(), or after a write failure closed it. */
export class StateClosedError extends SovError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STATE_CLOSED', message, options);
    this.name = 'StateClosedError';
  }
}

/** Whether a value is a StateClosedError (from any copy of the package). */
export function isStateClosedError(value: unknown): value is StateClosedError {
  return value instanceof StateClosedError || (isSovError(value) && value.name === 'StateClosedError');
}
