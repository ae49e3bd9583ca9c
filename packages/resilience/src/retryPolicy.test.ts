import { CancelledError, NetworkError, RemoteError, SovError } from '@sov/core';
import { RetryPolicy } from './retryPolicy';

const network = () => new NetworkError('POST', 'http://127.0.0.1:1/rpc');
const remote = (status: number, code: string, retryAfterMs?: number) =>
  new RemoteError({ code, message: 'nope', status, method: 'POST', url: 'http://peer/rpc', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

describe('RetryPolicy', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('retries up to maxAttempts with exponential delays', async () => {
    const policy = new RetryPolicy({ maxAttempts: 4, initialDelay: 100, backoffFactor: 2, jitter: 0 });
    const delays: number[] = [];
    policy.onRetry((e) => delays.push(e.delayMs));
    const attempts: number[] = [];
    const run = policy.execute(({ attempt }) => {
      attempts.push(attempt);
      throw network();
    });
    const settled = run.catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(99);
    expect(attempts).toEqual([1]);
    await jest.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([1, 2]);
    await jest.advanceTimersByTimeAsync(200);
    expect(attempts).toEqual([1, 2, 3]);
    await jest.advanceTimersByTimeAsync(400);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(await settled).toBeInstanceOf(NetworkError);
    expect(delays).toEqual([100, 200, 400]);
  });

  it('stops at the first success and caps delays at maxDelay', async () => {
    const policy = new RetryPolicy({ maxAttempts: 10, initialDelay: 1000, backoffFactor: 10, maxDelay: 5000, jitter: 0 });
    expect([1, 2, 3, 4].map((n) => policy.delayFor(n))).toEqual([1000, 5000, 5000, 5000]);
    let calls = 0;
    const run = policy.execute(() => (++calls < 3 ? Promise.reject(network()) : 'ok'));
    await jest.advanceTimersByTimeAsync(6000);
    await expect(run).resolves.toBe('ok');
    expect(calls).toBe(3);
  });

  it('applies jitter within [d × (1 − jitter), d]', async () => {
    const policy = new RetryPolicy({ maxAttempts: 2, initialDelay: 1000, jitter: 0.5, random: () => 0.5 });
    const delays: number[] = [];
    policy.onRetry((e) => delays.push(e.delayMs));
    const run = policy.execute(() => Promise.reject(network())).catch(() => undefined);
    await jest.advanceTimersByTimeAsync(1000);
    await run;
    expect(delays).toEqual([750]);
  });

  it('does not retry 4xx answers or signature failures', async () => {
    const policy = new RetryPolicy({ maxAttempts: 5, jitter: 0 });
    for (const error of [remote(400, 'INVALID_INPUT'), remote(404, 'NOT_FOUND'), remote(401, 'SIGNATURE_INVALID'), new SovError('SIGNATURE_INVALID', 'bad')]) {
      let calls = 0;
      await expect(
        policy.execute(() => {
          calls++;
          throw error;
        }),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('never retries a cancelled call, and stops when the caller aborts during the backoff', async () => {
    const policy = new RetryPolicy({ maxAttempts: 5, jitter: 0, initialDelay: 100 });
    const cancelled = new CancelledError('POST http://peer/rpc');
    let calls = 0;
    await expect(
      policy.execute(() => {
        calls++;
        throw cancelled;
      }),
    ).rejects.toBe(cancelled);
    expect(calls).toBe(1);

    const caller = new AbortController();
    calls = 0;
    const run = policy
      .execute(() => {
        calls++;
        throw network();
      }, caller.signal)
      .catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(50);
    caller.abort();
    await jest.advanceTimersByTimeAsync(100);
    expect(await run).toMatchObject({ code: 'CANCELLED' });
    expect(calls).toBe(1);

    await expect(policy.execute(() => 'never', caller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('retries 5xx and 429, waiting at least the Retry-After', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, initialDelay: 100, jitter: 0 });
    const delays: number[] = [];
    policy.onRetry((e) => delays.push(e.delayMs));
    let calls = 0;
    const run = policy.execute(() => {
      calls++;
      if (calls === 1) throw remote(503, 'UNAVAILABLE');
      if (calls === 2) throw remote(429, 'RATE_LIMITED', 2000);
      return 'done';
    });
    await jest.advanceTimersByTimeAsync(100);
    expect(calls).toBe(2);
    await jest.advanceTimersByTimeAsync(1999);
    expect(calls).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    await expect(run).resolves.toBe('done');
    expect(delays).toEqual([100, 2000]);
  });

  it('gives up when the Retry-After is longer than maxDelay', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, maxDelay: 1000 });
    let calls = 0;
    await expect(
      policy.execute(() => {
        calls++;
        throw remote(429, 'RATE_LIMITED', 60_000);
      }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(calls).toBe(1);
  });

  it('takes a custom retryable and unsubscribes listeners', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, initialDelay: 10, jitter: 0, retryable: (e) => (e as Error).message === 'again' });
    const seen: number[] = [];
    const dispose = policy.onRetry((e) => seen.push(e.attempt));
    let calls = 0;
    const run = policy.execute(() => {
      calls++;
      throw new Error(calls === 1 ? 'again' : 'stop');
    });
    const settled = run.catch((e: Error) => e.message);
    await jest.advanceTimersByTimeAsync(10);
    expect(await settled).toBe('stop');
    expect(seen).toEqual([2]);
    dispose();
    const again = policy.execute(() => Promise.reject(new Error('again'))).catch(() => undefined);
    await jest.advanceTimersByTimeAsync(100);
    await again;
    expect(seen).toEqual([2]);
  });

  it('rejects bad options', () => {
    expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => new RetryPolicy({ jitter: 2 })).toThrow(RangeError);
  });
});
