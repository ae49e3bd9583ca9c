import { isSovError, SovError } from '@sov/core';

/**
 * A call refused because its circuit breaker is open: the protected
 * dependency failed too often and is being given time to recover.
 * `retryAfterMs` says when the breaker lets a probe through again.
 */
export class CircuitOpenError extends SovError {
  /** The breaker's name (for a peer breaker, the peer's endpoint). */
  readonly breaker: string;
  /** Milliseconds until the breaker half-opens; 0 when it is probing, undefined when held open by hand. */
  readonly retryAfterMs: number | undefined;

  constructor(breaker: string, options: { retryAfterMs?: number; cause?: unknown; isolated?: boolean } = {}) {
    const when =
      options.isolated === true
        ? 'held open'
        : options.retryAfterMs === undefined
          ? 'open'
          : `open; next probe in ${Math.max(0, Math.ceil(options.retryAfterMs))} ms`;
    super('CIRCUIT_OPEN', `Circuit breaker "${breaker}" is ${when}`, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: { breaker, ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: Math.max(0, options.retryAfterMs) }) },
    });
    this.name = 'CircuitOpenError';
    this.breaker = breaker;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Whether a value is a CircuitOpenError (from this or any other copy of the package). */
export function isCircuitOpenError(value: unknown): value is CircuitOpenError {
  return value instanceof CircuitOpenError || (isSovError(value) && value.code === 'CIRCUIT_OPEN' && value.name === 'CircuitOpenError');
}
