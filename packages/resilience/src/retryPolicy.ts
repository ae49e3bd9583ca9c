import { handleWhen, retry, type IBackoff, type IBackoffFactory, type IRetryBackoffContext, type RetryPolicy as CockatielRetry } from 'cockatiel';
import { abortErrorOf } from '@sov/core';
import { isRetryable, retryAfterOf } from './isRetryable';
import { NEVER_ABORTED } from './internal/neverAborted';
import type { Dispose, ExecutionContext, Policy } from './policy';

/** Options of a RetryPolicy. Delays are in milliseconds. */
export interface RetryPolicyOptions {
  /** Attempts in all, the first one included; 1 never retries. @default 3 */
  maxAttempts?: number;
  /** Delay before the first retry. @default 200 */
  initialDelay?: number;
  /** Each retry waits this many times longer than the one before. @default 2 */
  backoffFactor?: number;
  /** Longest wait between two attempts; a Retry-After longer than this ends the retries. @default 30000 */
  maxDelay?: number;
  /**
   * Share of each delay that is random, from 0 (none) to 1 (full jitter): a
   * delay d becomes a random value in [d × (1 − jitter), d], so that clients
   * which failed together do not retry together.
   * @default 0.5
   */
  jitter?: number;
  /** Whether an error is worth another attempt. @default isRetryable */
  retryable?: (error: unknown) => boolean;
  /** Source of randomness for the jitter, in [0, 1). @default Math.random */
  random?: () => number;
}

/** What `onRetry` reports, before the wait. */
export interface RetryEvent {
  /** The error that failed the attempt. */
  error: Error;
  /** The attempt that is about to run: 2 for the first retry. */
  attempt: number;
  /** How long the policy waits before it. */
  delayMs: number;
}

/** What a retried function receives. */
export interface RetryContext extends ExecutionContext {
  /** 1 for the first attempt. */
  attempt: number;
}

interface Settings {
  initialDelay: number;
  backoffFactor: number;
  maxDelay: number;
  jitter: number;
  random: () => number;
}

/** The delay before retry number `retry` (1-based), before jitter and Retry-After. */
function baseDelay(s: Settings, retryNo: number): number {
  return Math.min(s.maxDelay, s.initialDelay * s.backoffFactor ** (retryNo - 1));
}

class Backoff implements IBackoff<IRetryBackoffContext<unknown>> {
  readonly duration: number;

  constructor(
    private readonly settings: Settings,
    private readonly retryNo: number,
    error: unknown,
  ) {
    const d = baseDelay(settings, retryNo);
    const jittered = d * (1 - settings.jitter * settings.random());
    // The server knows best: never call again before its Retry-After.
    this.duration = Math.round(Math.max(jittered, retryAfterOf(error) ?? 0));
  }

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return new Backoff(this.settings, this.retryNo + 1, 'error' in context.result ? context.result.error : undefined);
  }
}

class BackoffFactory implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(private readonly settings: Settings) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return new Backoff(this.settings, 1, 'error' in context.result ? context.result.error : undefined);
  }
}

function positive(name: string, value: number, allowZero = true): number {
  if (!Number.isFinite(value) && value !== Infinity) throw new RangeError(`RetryPolicy ${name} must be a number, got ${value}`);
  if (value < 0 || (!allowZero && value === 0)) throw new RangeError(`RetryPolicy ${name} must be ${allowZero ? '>= 0' : '> 0'}, got ${value}`);
  return value;
}

/**
 * Runs work again when it fails with an error worth retrying, waiting longer
 * each time (exponential backoff with jitter) and never sooner than a
 * Retry-After. On cockatiel; timers are read when a call runs, so fake timers work.
 *
 * @example
 * const retry = new RetryPolicy({ maxAttempts: 3, backoffFactor: 2, maxDelay: 30_000 });
 * retry.onRetry(({ attempt, delayMs, error }) => log.warn('retrying', { attempt, delayMs, error: error.message }));
 * const record = await retry.execute(({ signal }) => registry.get(id));
 */
export class RetryPolicy implements Policy {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  private readonly inner: CockatielRetry;
  private readonly settings: Settings;

  constructor(options: RetryPolicyOptions = {}) {
    this.maxAttempts = positive('maxAttempts', options.maxAttempts ?? 3, false);
    if (this.maxAttempts !== Infinity && !Number.isInteger(this.maxAttempts)) {
      throw new RangeError(`RetryPolicy maxAttempts must be an integer, got ${this.maxAttempts}`);
    }
    const jitter = positive('jitter', options.jitter ?? 0.5);
    if (jitter > 1) throw new RangeError(`RetryPolicy jitter must be between 0 and 1, got ${jitter}`);
    this.settings = {
      initialDelay: positive('initialDelay', options.initialDelay ?? 200),
      backoffFactor: positive('backoffFactor', options.backoffFactor ?? 2, false),
      maxDelay: positive('maxDelay', options.maxDelay ?? 30_000),
      jitter,
      random: options.random ?? Math.random,
    };
    const retryable = options.retryable ?? isRetryable;
    const maxDelay = this.settings.maxDelay;
    this.inner = retry(
      handleWhen((error) => retryable(error) && !((retryAfterOf(error) ?? 0) > maxDelay)),
      { maxAttempts: this.maxAttempts - 1, backoff: new BackoffFactory(this.settings) },
    );
  }

  /** Runs `fn`, again after a delay while it fails with a retryable error, up to `maxAttempts` attempts. Rejects with the last error. */
  execute<T>(fn: (context: RetryContext) => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    const s = signal ?? NEVER_ABORTED;
    if (s.aborted) return Promise.reject(abortReason(s));
    // The first attempt runs here; cockatiel's retry loop is entered only when it fails, and is handed that failure
    // as its own first attempt: it decides, waits, tells onRetry and counts exactly as if it had run it. A call that
    // succeeds at once is spared the loop's two async frames, about a microsecond over a real connection.
    let first: T | Promise<T>;
    try {
      first = fn({ signal: s, attempt: 1 });
    } catch (e) {
      return this.retryAfter(e, fn, s);
    }
    return Promise.resolve(first).then(undefined, (e: unknown) => this.retryAfter(e, fn, s));
  }

  private retryAfter<T>(thrown: unknown, fn: (context: RetryContext) => T | Promise<T>, signal: AbortSignal): Promise<T> {
    const firstError = thrown instanceof Error ? thrown : new Error(String(thrown));
    return this.inner.execute((ctx) => {
      if (ctx.attempt === 0) return Promise.reject(firstError);
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      return fn({ signal: ctx.signal, attempt: ctx.attempt + 1 });
    }, signal);
  }

  /** The delay before retry number `retryNo` (1-based) without jitter or Retry-After: `min(maxDelay, initialDelay × backoffFactor^(retryNo−1))`. */
  delayFor(retryNo: number): number {
    return baseDelay(this.settings, retryNo);
  }

  /** Subscribes to retries (called before the wait); returns a function that unsubscribes. */
  onRetry(listener: (event: RetryEvent) => void): Dispose {
    const sub = this.inner.onRetry((e) => {
      if ('error' in e) listener({ error: e.error, attempt: e.attempt + 1, delayMs: e.delay });
    });
    return () => sub.dispose();
  }

  /** Subscribes to calls whose attempts ran out on a retryable error; returns a function that unsubscribes. */
  onGiveUp(listener: (event: { error: Error }) => void): Dispose {
    const sub = this.inner.onGiveUp((e) => {
      if ('error' in e) listener({ error: e.error });
    });
    return () => sub.dispose();
  }
}

/** What a call rejects with when the caller's signal aborts: CANCELLED, or the signal's own SovError or timeout. */
function abortReason(signal: AbortSignal): Error {
  return abortErrorOf(signal, 'Retried operation');
}
