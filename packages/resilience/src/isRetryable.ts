import { isRemoteError, isSovError, type SovErrorCode } from '@sov/core';

// Local failures that a second attempt may cure.
const RETRYABLE_CODES: ReadonlySet<SovErrorCode> = new Set<SovErrorCode>(['NETWORK_ERROR', 'TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED']);

// A bad signature stays bad however often it is sent; a caller that gave up wants no second attempt.
const NEVER_RETRIED: ReadonlySet<SovErrorCode> = new Set<SovErrorCode>([
  'CANCELLED',
  'SIGNATURE_INVALID',
  'SIGNATURE_EXPIRED',
  'REPLAY_DETECTED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'ID_MISMATCH',
]);

// Node and undici codes of a connection that failed below HTTP.
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** A caller's abort that is not a SovError: a DOMException AbortError, cockatiel's TaskCancelledError. */
function isCancellation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  return (error as { name?: unknown }).name === 'AbortError' || 'isTaskCancelledError' in error;
}

function isLowLevelNetworkError(error: unknown, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) return false;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return isLowLevelNetworkError(cause, depth + 1);
}

/**
 * Decides from the error alone whether trying again may succeed. The default
 * `retryable` of every RetryPolicy.
 *
 * - retried: network errors (refused, reset, DNS), timeouts, 5xx answers, 429
 *   and 408 answers, a local RATE_LIMITED;
 * - not retried: the caller's own cancellation (CANCELLED, an AbortError,
 *   cockatiel's TaskCancelledError), other 4xx answers, signature and
 *   authorization failures, an open circuit, a full bulkhead, anything else.
 *
 * The circuit breaker counts the same errors as failures, so a cancelled
 * call never counts against a peer.
 *
 * @example
 * const retry = new RetryPolicy({ retryable: (e) => isRetryable(e) || isMyTransientError(e) });
 */
export function isRetryable(error: unknown): boolean {
  if (isSovError(error)) {
    if (NEVER_RETRIED.has(error.code)) return false;
    if (isRemoteError(error)) {
      const status = error.httpStatus;
      return status >= 500 || status === 429 || status === 408;
    }
    if (RETRYABLE_CODES.has(error.code)) return true;
    return isLowLevelNetworkError(error.cause);
  }
  if (error instanceof Error && error.name === 'TimeoutError') return true;
  if (isCancellation(error)) return false;
  return isLowLevelNetworkError(error);
}

/**
 * How long the error asks the caller to wait before trying again, in ms: a
 * RemoteError's `Retry-After`, or `details.retryAfterMs` of a local SovError
 * (RATE_LIMITED, CIRCUIT_OPEN). Undefined when it says nothing.
 */
export function retryAfterOf(error: unknown): number | undefined {
  if (!isSovError(error)) return undefined;
  if (isRemoteError(error) && error.retryAfterMs !== undefined) return error.retryAfterMs;
  const fromDetails = (error.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof fromDetails === 'number' && Number.isFinite(fromDetails) ? fromDetails : undefined;
}
