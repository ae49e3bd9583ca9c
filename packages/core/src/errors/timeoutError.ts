import { isSovError, SovError } from './sovError';

/** Work that did not finish within its time budget. */
export class TimeoutError extends SovError {
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    super('TIMEOUT', `${what} timed out after ${timeoutMs} ms`, options);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** Whether a value is a TimeoutError. */
export function isTimeoutError(value: unknown): value is TimeoutError {
  return value instanceof TimeoutError || (isSovError(value) && value.name === 'TimeoutError');
}
