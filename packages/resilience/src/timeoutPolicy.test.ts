import { isCancelledError, isTimeoutError } from '@sov/core';
import { TimeoutPolicy } from './timeoutPolicy';

describe('TimeoutPolicy', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('cancels the work through its signal and rejects with TimeoutError', async () => {
    const policy = new TimeoutPolicy({ timeoutMs: 500, name: 'price lookup' });
    const timeouts = jest.fn();
    policy.onTimeout(timeouts);
    let seen: AbortSignal | undefined;
    let cancelled = false;
    const run = policy
      .execute(({ signal }) => {
        seen = signal;
        signal.addEventListener('abort', () => (cancelled = true));
        return new Promise<string>(() => undefined); // never settles on its own
      })
      .catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(499);
    expect(cancelled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const error = await run;
    expect(isTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 500, message: 'price lookup timed out after 500 ms' });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(cancelled).toBe(true);
    expect(timeouts).toHaveBeenCalledTimes(1);
  });

  it('answers work that finishes in time and leaves no timer behind once the budget has passed', async () => {
    const policy = new TimeoutPolicy(500);
    const timeouts = jest.fn();
    policy.onTimeout(timeouts);
    let seen: AbortSignal | undefined;
    await expect(
      policy.execute(({ signal }) => {
        seen = signal;
        return 'fast';
      }),
    ).resolves.toBe('fast');
    expect(jest.getTimerCount()).toBeLessThanOrEqual(1); // the policy's shared timer, left to lapse
    await jest.advanceTimersByTimeAsync(1000);
    expect(jest.getTimerCount()).toBe(0);
    expect(seen?.aborted).toBe(false);
    expect(timeouts).not.toHaveBeenCalled();
  });

  it('rejects with the error of work that fails in time', async () => {
    const policy = new TimeoutPolicy(500);
    await expect(policy.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      policy.execute(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
  });

  it("reports the caller's own abort as such, not as a timeout", async () => {
    const policy = new TimeoutPolicy(10_000);
    const caller = new AbortController();
    const run = policy.execute(() => new Promise(() => undefined), caller.signal).catch((e: unknown) => e);
    const reason = new Error('caller gave up');
    caller.abort(reason);
    const error = await run;
    expect(error).toMatchObject({ code: 'CANCELLED', message: 'Operation was cancelled by the caller: caller gave up', cause: reason });
    expect(isCancelledError(error)).toBe(true);
  });

  it('rejects at once with CANCELLED when the signal is already aborted, without running the work', async () => {
    const policy = new TimeoutPolicy({ timeoutMs: 10_000, name: 'price lookup' });
    const caller = new AbortController();
    caller.abort();
    let ran = false;
    await expect(
      policy.execute(() => {
        ran = true;
      }, caller.signal),
    ).rejects.toMatchObject({ code: 'CANCELLED', message: 'price lookup was cancelled by the caller' });
    expect(ran).toBe(false);
  });

  it('times out each of many concurrent calls at its own deadline, and only the slow ones', async () => {
    const policy = new TimeoutPolicy(100);
    const timeouts = jest.fn();
    policy.onTimeout(timeouts);
    const outcome: Record<string, string> = {};
    const start = (name: string, takesMs: number) =>
      policy
        .execute(() => new Promise<string>((resolve) => setTimeout(() => resolve('done'), takesMs)))
        .then(
          (v) => (outcome[name] = v),
          (e: { code?: string }) => (outcome[name] = e.code ?? 'error'),
        );
    const runs = [start('slowA', 500)];
    await jest.advanceTimersByTimeAsync(40);
    runs.push(start('fast', 30), start('slowB', 500));
    await jest.advanceTimersByTimeAsync(59); // t = 99: nothing due yet
    expect(outcome).toEqual({ fast: 'done' });
    await jest.advanceTimersByTimeAsync(1); // t = 100: slowA's budget is gone, slowB has 40 ms left
    expect(outcome).toEqual({ fast: 'done', slowA: 'TIMEOUT' });
    await jest.advanceTimersByTimeAsync(40); // t = 140
    expect(outcome).toEqual({ fast: 'done', slowA: 'TIMEOUT', slowB: 'TIMEOUT' });
    await Promise.all(runs);
    expect(timeouts).toHaveBeenCalledTimes(2);
  });
});
