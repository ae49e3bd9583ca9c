import { NetworkError } from '@sov/core';
import { CircuitBreaker } from './circuitBreaker';
import { isCircuitOpenError } from './errors/circuitOpenError';
import { Fallback } from './fallback';
import { PolicyStack, wrap } from './policyStack';
import { RetryPolicy } from './retryPolicy';
import { TimeoutPolicy } from './timeoutPolicy';

describe('composition', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('wrap: the first policy is outermost; each attempt gets its own timeout', async () => {
    const retry = new RetryPolicy({ maxAttempts: 3, initialDelay: 100, jitter: 0 });
    const policy = wrap(retry, new TimeoutPolicy(1000));
    const signals: AbortSignal[] = [];
    const run = policy.execute(({ signal }) => {
      signals.push(signal);
      return signals.length < 3 ? new Promise<string>(() => undefined) : 'third time';
    });
    await jest.advanceTimersByTimeAsync(1000 + 100 + 1000 + 200);
    await expect(run).resolves.toBe('third time');
    expect(signals).toHaveLength(3);
    expect(signals[0]!.aborted && signals[1]!.aborted).toBe(true);
  });

  it('PolicyStack: an opening circuit ends the retries at once', async () => {
    const stack = new PolicyStack({
      retry: { maxAttempts: 10, initialDelay: 10, jitter: 0 },
      breaker: { failureThreshold: 2, recoveryTimeout: 60_000 },
      timeoutMs: 1000,
      bulkhead: { limit: 4 },
    });
    let calls = 0;
    const run = stack
      .execute(() => {
        calls++;
        return Promise.reject(new NetworkError('POST', 'http://peer/rpc'));
      })
      .catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100);
    expect(isCircuitOpenError(await run)).toBe(true);
    expect(calls).toBe(2);
    expect(stack.breaker?.state).toBe('open');
  });

  it('Fallback answers a substitute for the errors it covers', async () => {
    const breaker = new CircuitBreaker();
    breaker.isolate();
    const cached = new Fallback({ fallback: () => 'cached', when: isCircuitOpenError });
    await expect(cached.execute((ctx) => breaker.call(() => 'live', ctx.signal))).resolves.toBe('cached');
    await expect(cached.execute(() => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
    const any = new Fallback({ fallback: (e) => `fell back: ${(e as Error).message}` });
    await expect(any.execute(() => Promise.reject(new Error('x')))).resolves.toBe('fell back: x');
  });
});
