import { CancelledError, NetworkError, RemoteError } from '@sov/core';
import { CircuitBreaker } from './circuitBreaker';
import { isCircuitOpenError } from './errors/circuitOpenError';

const fail = () => Promise.reject(new NetworkError('POST', 'http://peer/rpc'));
const ok = () => Promise.resolve('ok');

describe('CircuitBreaker', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('opens after failureThreshold consecutive failures, half-opens after recoveryTimeout, closes on a good probe', async () => {
    const breaker = new CircuitBreaker({ name: 'peer-a', failureThreshold: 3, recoveryTimeout: 10_000 });
    const events: string[] = [];
    breaker.onBreak(({ error }) => events.push(`break:${error?.name}`));
    breaker.onHalfOpen(() => events.push('half-open'));
    breaker.onReset(() => events.push('reset'));

    for (let i = 0; i < 2; i++) await expect(breaker.call(fail)).rejects.toBeInstanceOf(NetworkError);
    expect(breaker.state).toBe('closed');
    await expect(breaker.call(fail)).rejects.toBeInstanceOf(NetworkError);
    expect(breaker.state).toBe('open');

    const work = jest.fn(ok);
    const refused = await breaker.call(work).catch((e: unknown) => e);
    expect(isCircuitOpenError(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'CIRCUIT_OPEN', breaker: 'peer-a', retryAfterMs: 10_000, status: 503 });
    expect(work).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(9_999);
    await expect(breaker.call(work)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterMs: 1 });
    await jest.advanceTimersByTimeAsync(1);
    await expect(breaker.call(work)).resolves.toBe('ok');
    expect(work).toHaveBeenCalledTimes(1);
    expect(breaker.state).toBe('closed');
    expect(events).toEqual(['break:NetworkError', 'half-open', 'reset']);
  });

  it('opens again when the probe fails, and lets only one probe through at a time', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryTimeout: 1000 });
    const states: string[] = [];
    breaker.onStateChange((s) => states.push(s));
    await expect(breaker.call(fail)).rejects.toBeInstanceOf(NetworkError);
    await jest.advanceTimersByTimeAsync(1000);

    let release!: (v: string) => void;
    const probe = breaker.call(() => new Promise<string>((_, reject) => (release = () => reject(new NetworkError('POST', 'x')))));
    expect(breaker.state).toBe('half-open');
    const waiting = jest.fn(ok);
    const second = breaker.call(waiting).catch((e: unknown) => e);
    release('');
    await expect(probe).rejects.toBeInstanceOf(NetworkError);
    expect(isCircuitOpenError(await second)).toBe(true);
    expect(waiting).not.toHaveBeenCalled();
    expect(breaker.state).toBe('open');
    expect(states).toEqual(['open', 'half-open', 'open']);
  });

  it('does not count errors that say nothing about the dependency', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    const notFound = new RemoteError({ code: 'NOT_FOUND', message: 'no', status: 404, method: 'GET', url: 'x' });
    for (let i = 0; i < 5; i++) await expect(breaker.call(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(breaker.state).toBe('closed');
  });

  it('does not count a cancelled call as a failure of the dependency', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    await expect(breaker.call(fail)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    for (let i = 0; i < 5; i++) {
      await expect(breaker.call(() => Promise.reject(new CancelledError('POST http://peer/rpc')))).rejects.toMatchObject({ code: 'CANCELLED' });
    }
    expect(breaker.state).toBe('closed');
    // The failure before the cancellations still counts: one more opens the circuit.
    await expect(breaker.call(fail)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(breaker.state).toBe('open');
  });

  it('resets the consecutive count on success', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    await breaker.call(fail).catch(() => undefined);
    await breaker.call(ok);
    await breaker.call(fail).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('counts work that throws at once as a failure, and gives a call that fails after the circuit opened its own error', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, recoveryTimeout: 60_000 });
    let failSlow!: (e: Error) => void;
    const slow = breaker.call(() => new Promise<string>((_, reject) => (failSlow = reject)));
    const boom = new NetworkError('POST', 'http://peer/rpc');
    await expect(
      breaker.call(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(breaker.call(fail)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(breaker.state).toBe('open');
    const late = new NetworkError('POST', 'http://peer/rpc');
    failSlow(late);
    await expect(slow).rejects.toBe(late);
    expect(breaker.state).toBe('open');
  });

  it('tells onSuccess listeners of each success, not of failures or errors it does not count', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 5 });
    const successes = jest.fn();
    const dispose = breaker.onSuccess(successes);
    await breaker.call(ok);
    await breaker.call(fail).catch(() => undefined);
    const notFound = new RemoteError({ code: 'NOT_FOUND', message: 'no', status: 404, method: 'GET', url: 'x' });
    await breaker.call(() => Promise.reject(notFound)).catch(() => undefined);
    await breaker.call(ok);
    expect(successes).toHaveBeenCalledTimes(2);
    dispose();
    await breaker.call(ok);
    expect(successes).toHaveBeenCalledTimes(2);
  });

  it('can be held open by hand, and its listeners disposed', async () => {
    const breaker = new CircuitBreaker();
    const breaks = jest.fn();
    const dispose = breaker.onBreak(breaks);
    const release = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    await expect(breaker.call(ok)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', message: expect.stringContaining('held open') });
    release();
    expect(breaker.state).toBe('closed');
    dispose();
    breaker.isolate();
    expect(breaks).toHaveBeenCalledTimes(1);
    expect(breaks).toHaveBeenCalledWith({ error: undefined, isolated: true });
  });
});
