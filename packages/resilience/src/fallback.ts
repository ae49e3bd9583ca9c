import { NEVER_ABORTED } from './internal/neverAborted';
import type { Work } from './policy';

/** Options of a Fallback. */
export interface FallbackOptions<F> {
  /** The value to answer instead, computed from the error (a cached copy, a default). */
  fallback: (error: unknown) => F | Promise<F>;
  /** Which errors fall back; others are rethrown. @default every error */
  when?: (error: unknown) => boolean;
}

/**
 * Answers a substitute value when the work fails: the last known good data,
 * a default, a degraded answer. Goes outermost, around a policy stack.
 * (cockatiel's fallback cannot see the error, so this one is written out.)
 *
 * @example
 * const prices = new Fallback({ fallback: () => cachedPrices, when: (e) => isCircuitOpenError(e) });
 * const list = await prices.execute((ctx) => stack.execute(() => fetchPrices(), ctx.signal));
 */
export class Fallback<F> {
  private readonly fallback: (error: unknown) => F | Promise<F>;
  private readonly when: ((error: unknown) => boolean) | undefined;

  constructor(options: FallbackOptions<F>) {
    this.fallback = options.fallback;
    this.when = options.when;
  }

  /** Runs `fn`; on a matching error, answers the fallback value instead. */
  async execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T | F> {
    try {
      return await fn({ signal: signal ?? NEVER_ABORTED });
    } catch (e) {
      if (this.when && !this.when(e)) throw e;
      return this.fallback(e);
    }
  }
}
