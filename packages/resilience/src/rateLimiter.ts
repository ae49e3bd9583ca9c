import { systemClock, type Clock } from '@sov/core';
import { RateLimitedError } from './errors/rateLimitedError';

/** Options of a RateLimiter. */
export interface RateLimiterOptions {
  /** Tokens a bucket holds: the largest burst. */
  capacity: number;
  /** Tokens added to each bucket per second: the sustained rate. */
  refillPerSecond: number;
  /** Buckets kept at most; the least recently used go first (a full bucket is as good as none). @default 10000 */
  maxKeys?: number;
  /** @default the system clock */
  clock?: Clock;
}

/** A RateLimiter's verdict. */
export type RateLimitDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key (a caller id, an address, a route): each holds up to
 * `capacity` tokens and gains `refillPerSecond`; a request takes one. Memory is
 * bounded by `maxKeys`. `take` throws RATE_LIMITED with `retryAfterMs`, which
 * the agent endpoint answers as 429 + Retry-After; `rateLimitGuard` installs it
 * there, and a registry can call `take` from its own request hook.
 *
 * @example
 * const limiter = new RateLimiter({ capacity: 20, refillPerSecond: 10 });
 * const verdict = limiter.tryTake(callerId);
 * if (!verdict.allowed) return reply.code(429).header('retry-after', Math.ceil(verdict.retryAfterMs / 1000));
 */
export class RateLimiter {
  /** The largest burst. */
  readonly capacity: number;
  /** The sustained rate, per second. */
  readonly refillPerSecond: number;
  private readonly maxKeys: number;
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.clock = options.clock ?? systemClock;
    if (!(this.capacity >= 1) || !Number.isFinite(this.capacity)) throw new RangeError(`RateLimiter capacity must be >= 1, got ${this.capacity}`);
    if (!(this.refillPerSecond > 0) || !Number.isFinite(this.refillPerSecond)) {
      throw new RangeError(`RateLimiter refillPerSecond must be > 0, got ${this.refillPerSecond}`);
    }
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1) throw new RangeError(`RateLimiter maxKeys must be an integer >= 1, got ${this.maxKeys}`);
  }

  /** Buckets held right now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes `cost` tokens from `key`'s bucket if it holds them; otherwise says how long until it will. Throws RangeError for a cost above `capacity`. */
  tryTake(key: string, cost = 1): RateLimitDecision {
    if (!(cost >= 0) || cost > this.capacity) throw new RangeError(`RateLimiter cost must be between 0 and capacity ${this.capacity}, got ${cost}`);
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      // Re-insert so the Map's order stays least-recently-used first.
      this.buckets.delete(key);
      bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.refillPerSecond);
      bucket.at = now;
    } else {
      bucket = { tokens: this.capacity, at: now };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true, remaining: Math.floor(bucket.tokens) };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((cost - bucket.tokens) / this.refillPerSecond) * 1000) };
  }

  /** Takes `cost` tokens or throws a RateLimitedError (RATE_LIMITED, `details.retryAfterMs`). */
  take(key: string, cost = 1): void {
    const verdict = this.tryTake(key, cost);
    if (!verdict.allowed) throw new RateLimitedError(key, verdict.retryAfterMs);
  }

  /** Forgets every bucket. */
  reset(): void {
    this.buckets.clear();
  }
}
