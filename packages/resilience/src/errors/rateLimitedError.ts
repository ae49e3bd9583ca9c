import { isSovError, SovError } from '@sov/core';

/**
 * A request refused by a rate limiter. `details.retryAfterMs` is what the
 * agent endpoint turns into a `Retry-After` header on its 429 answer.
 */
export class RateLimitedError extends SovError {
  /** The key whose bucket ran dry (a caller id, for instance). */
  readonly key: string;
  /** Milliseconds until the bucket holds enough tokens again. */
  readonly retryAfterMs: number;

  constructor(key: string, retryAfterMs: number) {
    const wait = Math.max(0, Math.ceil(retryAfterMs));
    super('RATE_LIMITED', `Rate limit exceeded for "${key}"; retry in ${wait} ms`, { details: { retryAfterMs: wait } });
    this.name = 'RateLimitedError';
    this.key = key;
    this.retryAfterMs = wait;
  }
}

/** Whether a value is a RateLimitedError (from this or any other copy of the package). */
export function isRateLimitedError(value: unknown): value is RateLimitedError {
  return value instanceof RateLimitedError || (isSovError(value) && value.code === 'RATE_LIMITED' && value.name === 'RateLimitedError');
}
