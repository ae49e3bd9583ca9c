import { isTimeoutError } from '../errors/timeoutError';
import { waitFor } from './waitFor';

describe('waitFor', () => {
  it('resolves with the first truthy value, trying again until then', async () => {
    let tries = 0;
    const value = await waitFor('the third try', () => (++tries === 3 ? { tries } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ tries: 3 });
  });

  it('counts a try that throws (an expect not met yet) as not yet, and awaits async conditions', async () => {
    let tries = 0;
    await waitFor(
      'the expectation to hold',
      async () => {
        await Promise.resolve();
        expect(++tries).toBeGreaterThan(2);
        return true;
      },
      { intervalMs: 1 },
    );
    expect(tries).toBe(3);
  });

  it('rejects with TIMEOUT naming what it waited for and why the last try failed', async () => {
    const error = await waitFor(
      'the peer to answer',
      () => {
        throw new Error('still 503');
      },
      { timeoutMs: 20, intervalMs: 1 },
    ).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TIMEOUT', message: 'Waiting for the peer to answer timed out after 20 ms (last try: still 503)', cause: new Error('still 503') });
    await expect(waitFor('a falsy value', () => 0, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'TIMEOUT', message: 'Waiting for a falsy value timed out after 0 ms' });
  });

  it.each([
    ['', {}, 'waitFor needs a description of what it waits for'],
    ['x', { timeoutMs: -1 }, 'waitFor(x): timeoutMs must be a finite number >= 0, got -1'],
    ['x', { intervalMs: Number.NaN }, 'waitFor(x): intervalMs must be a finite number >= 0, got NaN'],
  ])('refuses %p with %p as INVALID_INPUT without trying', async (what, options, message) => {
    let tries = 0;
    await expect(waitFor(what, () => ++tries, options)).rejects.toMatchObject({ code: 'INVALID_INPUT', message });
    expect(tries).toBe(0);
  });
});
