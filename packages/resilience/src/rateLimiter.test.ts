import { ManualClock } from '@sov/testing';
import { isRateLimitedError } from './errors/rateLimitedError';
import { RateLimiter } from './rateLimiter';

describe('RateLimiter', () => {
  it('allows a burst of capacity, then refills at refillPerSecond', () => {
    const clock = new ManualClock({ start: 0 });
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 2, clock });
    expect([1, 2, 3].map(() => limiter.tryTake('a').allowed)).toEqual([true, true, true]);
    expect(limiter.tryTake('a')).toEqual({ allowed: false, retryAfterMs: 500 });
    expect(limiter.tryTake('b').allowed).toBe(true); // buckets are per key
    clock.advance(499);
    expect(limiter.tryTake('a').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.tryTake('a')).toEqual({ allowed: true, remaining: 0 });
    clock.advance(10_000);
    expect(limiter.tryTake('a')).toEqual({ allowed: true, remaining: 2 }); // never above capacity
  });

  it('take throws RATE_LIMITED with retryAfterMs', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.5, clock: new ManualClock({ start: 0 }) });
    limiter.take('caller');
    const error = (() => {
      try {
        limiter.take('caller');
      } catch (e) {
        return e;
      }
    })();
    expect(isRateLimitedError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 2000, details: { retryAfterMs: 2000 } });
  });

  it('keeps at most maxKeys buckets, forgetting the least recently used', () => {
    const clock = new ManualClock({ start: 0 });
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 2, clock });
    limiter.tryTake('a');
    limiter.tryTake('b');
    limiter.tryTake('a'); // a is now the most recent
    limiter.tryTake('c'); // evicts b
    expect(limiter.size).toBe(2);
    expect(limiter.tryTake('b').allowed).toBe(true); // b starts over with a full bucket (evicting a)
    expect(limiter.tryTake('c').allowed).toBe(false);
  });

  it('rejects bad options and impossible costs', () => {
    expect(() => new RateLimiter({ capacity: 0, refillPerSecond: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ capacity: 1, refillPerSecond: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ capacity: 1, refillPerSecond: 1 }).tryTake('a', 2)).toThrow(RangeError);
  });
});
