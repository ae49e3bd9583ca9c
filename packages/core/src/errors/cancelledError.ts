import { isSovError, SovError } from './sovError';

/**
 * Work that the caller gave up on (its AbortSignal fired). Never retried, never
 * failed over and never counted against a peer: the peer did nothing wrong.
 * Code CANCELLED; `reason` is the signal's reason when it gave one.
 */
export class CancelledError extends SovError {
  readonly reason: unknown;

  constructor(what: string, options: { cause?: unknown } = {}) {
    const cause = options.cause as { name?: unknown; message?: unknown } | undefined;
    const why = typeof cause === 'object' && cause !== null && cause.name !== 'AbortError' && typeof cause.message === 'string' && cause.message ? `: ${cause.message}` : '';
    super('CANCELLED', `${what} was cancelled by the caller${why}`, options);
    this.name = 'CancelledError';
    this.reason = options.cause;
  }
}

/**
 * Whether a value is a local cancellation, from any copy of the package: a
 * CancelledError, or the CANCELLED error `toSovError` makes of an AbortError.
 * A peer's answer with that code (a RemoteError) is not one.
 */
export function isCancelledError(value: unknown): value is CancelledError {
  return value instanceof CancelledError || (isSovError(value) && value.code === 'CANCELLED' && value.name !== 'RemoteError');
}

/** Whether an abort reason stands for a timeout (`AbortSignal.timeout()`, a core TimeoutError) rather than a caller giving up. */
function isTimeoutReason(reason: unknown): boolean {
  if (isSovError(reason)) return reason.code === 'TIMEOUT';
  // By name, not instanceof: a DOMException may come from another realm.
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/**
 * The SovError an aborted signal stands for: its reason when that is a
 * SovError already, a TIMEOUT error when the reason is a timeout
 * (`AbortSignal.timeout()`), and a CancelledError otherwise (a plain
 * `controller.abort()`).
 *
 * @example
 * if (signal.aborted) throw abortErrorOf(signal, `POST ${url}`);
 */
export function abortErrorOf(signal: AbortSignal, what: string): SovError {
  const reason: unknown = signal.reason;
  if (isSovError(reason)) return reason;
  if (isTimeoutReason(reason)) return new SovError('TIMEOUT', `${what} timed out: its signal fired (${(reason as Error).message})`, { cause: reason });
  return new CancelledError(what, reason === undefined ? {} : { cause: reason });
}
