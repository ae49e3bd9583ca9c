import { Bulkhead, type BulkheadOptions } from './bulkhead';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuitBreaker';
import { NEVER_ABORTED } from './internal/neverAborted';
import type { Policy, Work } from './policy';
import { RetryPolicy, type RetryPolicyOptions } from './retryPolicy';
import { TimeoutPolicy } from './timeoutPolicy';

/**
 * Composes policies, the first outermost: `wrap(retry, breaker, timeout)`
 * retries calls that go through the breaker, each attempt with its own timeout.
 *
 * @example
 * const policy = wrap(new RetryPolicy(), new CircuitBreaker(), new TimeoutPolicy(2_000));
 * await policy.execute(({ signal }) => fetch(url, { signal }));
 */
export function wrap(...policies: Policy[]): Policy {
  const list = [...policies];
  const last = list.length - 1;
  const run = <T>(index: number, fn: Work<T>, signal: AbortSignal | undefined): Promise<T> => {
    const policy = list[index];
    if (!policy) {
      try {
        return Promise.resolve(fn({ signal: signal ?? NEVER_ABORTED }));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    // The innermost policy hands its own context to the work: reading `ctx.signal` here would create a signal the work may never use.
    return policy.execute(index === last ? fn : (ctx) => run(index + 1, fn, ctx.signal), signal);
  };
  return { execute: (fn, signal) => run(0, fn, signal) };
}

/** Options of a PolicyStack; leave a layer out (or set it to false) to go without it. */
export interface PolicyStackOptions {
  /** Outermost: caps the calls in flight, retries included. */
  bulkhead?: Bulkhead | BulkheadOptions | false;
  /** Retries what fails with a retryable error, through the breaker. */
  retry?: RetryPolicy | RetryPolicyOptions | false;
  /** Counts failures across calls; an open circuit ends the retries at once. */
  breaker?: CircuitBreaker | CircuitBreakerOptions | false;
  /** Innermost: the budget of each attempt, in ms. */
  timeoutMs?: number | TimeoutPolicy | false;
}

/**
 * The usual composition, in the usual order: bulkhead → retry → circuit
 * breaker → timeout → work. Each layer is reachable for its events
 * (`stack.breaker?.onBreak(...)`).
 *
 * @example
 * const stack = new PolicyStack({ bulkhead: { limit: 32 }, retry: { maxAttempts: 3 },
 *   breaker: { failureThreshold: 5, recoveryTimeout: 30_000 }, timeoutMs: 2_000 });
 * const reply = await stack.execute(({ signal }) => peers.call(url, request, { signal }));
 */
export class PolicyStack implements Policy {
  /** The bulkhead layer, if any. */
  readonly bulkhead: Bulkhead | undefined;
  /** The retry layer, if any. */
  readonly retry: RetryPolicy | undefined;
  /** The circuit breaker layer, if any. */
  readonly breaker: CircuitBreaker | undefined;
  /** The timeout layer, if any. */
  readonly timeout: TimeoutPolicy | undefined;
  private readonly policy: Policy;

  constructor(options: PolicyStackOptions = {}) {
    const { bulkhead, retry, breaker, timeoutMs } = options;
    this.bulkhead = bulkhead ? (bulkhead instanceof Bulkhead ? bulkhead : new Bulkhead(bulkhead)) : undefined;
    this.retry = retry ? (retry instanceof RetryPolicy ? retry : new RetryPolicy(retry)) : undefined;
    this.breaker = breaker ? (breaker instanceof CircuitBreaker ? breaker : new CircuitBreaker(breaker)) : undefined;
    this.timeout = timeoutMs ? (timeoutMs instanceof TimeoutPolicy ? timeoutMs : new TimeoutPolicy(timeoutMs)) : undefined;
    this.policy = wrap(...[this.bulkhead, this.retry, this.breaker, this.timeout].filter((p): p is NonNullable<typeof p> => p !== undefined));
  }

  /** Runs `fn` through every layer. */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    return this.policy.execute(fn, signal);
  }
}
