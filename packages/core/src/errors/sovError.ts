import { httpStatusOf, type SovErrorCode } from './errorCodes';

// A registry-wide symbol, so that a guard recognises errors thrown by another
// copy of this package (two versions in one node_modules tree).
const SOV_ERROR = Symbol.for('@sov/core/SovError');

/** The failure half of every response that crosses the wire. */
export interface WireFailure {
  success: false;
  error: { code: SovErrorCode; message: string; details?: unknown };
}

/** Options shared by every SovError. */
export interface SovErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** Structured, non-secret context sent on the wire (for example the list of bad fields). */
  details?: unknown;
}

/**
 * The base of every error the SDK throws. `code` is stable; `message` names
 * what failed and with which value; `cause` keeps the original.
 */
export class SovError extends Error {
  readonly code: SovErrorCode;
  readonly details: unknown;
  /** @internal brand read by the guards */
  readonly [SOV_ERROR] = true;

  constructor(code: SovErrorCode, message: string, options: SovErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SovError';
    this.code = code;
    this.details = options.details;
  }

  /** The HTTP status this error is sent with. */
  get status(): number {
    return httpStatusOf(this.code);
  }

  /** The wire form: `{ success: false, error: { code, message } }`. */
  toWire(): WireFailure {
    const error: WireFailure['error'] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { success: false, error };
  }
}

/** Whether a value is a SovError, from this or any other copy of the package. */
export function isSovError(value: unknown): value is SovError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[SOV_ERROR] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * Whether a value is a SovError with the given code. A peer's answer whose
 * code no loaded package declares (a RemoteError with code REMOTE_ERROR)
 * matches the code the peer sent, so a caller can branch on any code by its
 * string without loading the package that declares it.
 *
 * @example
 * if (hasErrorCode(e, 'HANDLER_FAILED')) retryLater();
 */
export function hasErrorCode(value: unknown, code: SovErrorCode | (string & {})): value is SovError {
  return isSovError(value) && (value.code === code || (value as { remoteCode?: unknown }).remoteCode === code);
}

/**
 * Normalises anything thrown into a SovError: a SovError is returned as is; a
 * `TimeoutError` (DOMException of `AbortSignal.timeout()`), or an
 * `AbortError` whose cause is a timeout, becomes TIMEOUT; any other
 * `AbortError` (a caller's `controller.abort()`) becomes CANCELLED; anything
 * else becomes `fallbackCode` (INTERNAL) with the original as `cause`.
 */
export function toSovError(value: unknown, fallbackCode: SovErrorCode = 'INTERNAL'): SovError {
  if (isSovError(value)) return value;
  // Aborts by name: a DOMException may come from another realm, where instanceof Error fails.
  const named = typeof value === 'object' && value !== null ? (value as { name?: unknown; message?: unknown; cause?: unknown }) : undefined;
  if (named?.name === 'TimeoutError' || named?.name === 'AbortError') {
    const message = typeof named.message === 'string' ? named.message : '';
    if (named.name === 'TimeoutError' || isTimeoutCause(named.cause)) return new SovError('TIMEOUT', message || 'Operation timed out', { cause: value });
    if (isSovError(named.cause)) return named.cause;
    return new SovError('CANCELLED', message || 'Operation cancelled', { cause: value });
  }
  if (value instanceof Error) {
    return new SovError(fallbackCode, value.message || value.name, { cause: value });
  }
  return new SovError(fallbackCode, `Non-error thrown: ${String(value)}`, { cause: value });
}

function isTimeoutCause(cause: unknown): boolean {
  if (isSovError(cause)) return cause.code === 'TIMEOUT';
  return typeof cause === 'object' && cause !== null && (cause as { name?: unknown }).name === 'TimeoutError';
}

/** Whether a parsed JSON body is a wire failure. */
export function isWireFailure(body: unknown): body is WireFailure {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as { success?: unknown; error?: { code?: unknown; message?: unknown } };
  return b.success === false && typeof b.error === 'object' && b.error !== null && typeof b.error.code === 'string';
}
