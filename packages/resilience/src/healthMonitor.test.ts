import { systemClock } from '@sov/core';
import { lastSuccessCheck, memoryCheck, queueDepthCheck, registryCheck } from './healthChecks';
import { HealthMonitor } from './healthMonitor';

describe('HealthMonitor', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs its checks at start and every intervalMs, and calls onUnhealthy on the way down', async () => {
    const monitor = new HealthMonitor({ intervalMs: 1000, clock: systemClock });
    let depth = 0;
    const run = jest.fn(() => depth);
    monitor.addCheck(queueDepthCheck(run, { max: 5 }));
    const unhealthy = jest.fn();
    const recovered = jest.fn();
    monitor.onUnhealthy(unhealthy);
    monitor.onRecovered(recovered);
    monitor.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(1);
    expect(monitor.report?.healthy).toBe(true);
    depth = 9;
    await jest.advanceTimersByTimeAsync(1000);
    expect(run).toHaveBeenCalledTimes(2);
    expect(unhealthy).toHaveBeenCalledTimes(1);
    expect(unhealthy.mock.calls[0][0].checks.queueDepth).toMatchObject({ ok: false, detail: { depth: 9, max: 5 } });
    await jest.advanceTimersByTimeAsync(1000);
    expect(unhealthy).toHaveBeenCalledTimes(1); // once per episode, not once per round
    depth = 0;
    await jest.advanceTimersByTimeAsync(1000);
    expect(recovered).toHaveBeenCalledTimes(1);
    monitor.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(run).toHaveBeenCalledTimes(4);
  });

  it('fails a check that throws or takes longer than checkTimeoutMs', async () => {
    const monitor = new HealthMonitor({ checkTimeoutMs: 100 });
    monitor.addCheck({ name: 'throws', run: () => { throw new Error('boom'); } });
    monitor.addCheck({ name: 'hangs', run: () => new Promise<boolean>(() => undefined) });
    const round = monitor.check();
    await jest.advanceTimersByTimeAsync(100);
    const report = await round;
    expect(report.healthy).toBe(false);
    expect(report.checks.throws).toMatchObject({ ok: false, detail: 'boom' });
    expect(report.checks.hangs).toMatchObject({ ok: false, detail: 'check timed out after 100 ms' });
  });

  it('mirrors the last results into the endpoint without running the checks again', async () => {
    const health = new Map<string, () => unknown>();
    const ready = new Map<string, () => unknown>();
    const registrar = {
      addRoute: jest.fn(),
      setVerifier: jest.fn(),
      addGuard: jest.fn(),
      addQueue: jest.fn(),
      queueDepths: () => ({}),
      addHealthCheck: (name: string, c: () => unknown) => health.set(name, c),
      addReadinessCheck: (name: string, c: () => unknown) => ready.set(name, c),
    };
    const monitor = new HealthMonitor();
    monitor.addCheck(memoryCheck({ read: () => ({ heapUsed: 95, heapLimit: 100 }) }));
    monitor.attach(registrar);
    monitor.addCheck(queueDepthCheck(() => 1));
    expect(health.get('memory')!()).toEqual({ ok: true, detail: 'not checked yet' });
    await monitor.check();
    expect(health.get('memory')!()).toMatchObject({ ok: false, detail: { detail: { heapRatio: 0.95, maxHeapRatio: 0.9 } } });
    expect(ready.get('queueDepth')!()).toMatchObject({ ok: true });
  });

  it('registryCheck: any answer means reachable; a network failure does not', async () => {
    const { NetworkError, RemoteError } = await import('@sov/core');
    const registry = {
      get: jest.fn(),
      register: jest.fn(),
      heartbeat: jest.fn(),
      deregister: jest.fn(),
      search: jest.fn(),
      updateMetadata: jest.fn(),
      getStake: jest.fn(),
      submitFeedback: jest.fn(),
      sendRequest: jest.fn(),
      subscribe: jest.fn(),
    };
    const check = registryCheck(registry, 'agent-1');
    registry.get.mockRejectedValueOnce(new RemoteError({ code: 'NOT_FOUND', message: 'no', status: 404, method: 'GET', url: 'x' }));
    await expect(check.run()).resolves.toMatchObject({ ok: true });
    registry.get.mockRejectedValueOnce(new NetworkError('GET', 'http://registry'));
    await expect(check.run()).resolves.toMatchObject({ ok: false });
  });

  it('lastSuccessCheck reports the time since the last success and fails past maxIdleMs', () => {
    const at = Date.now();
    const check = lastSuccessCheck(() => at, { maxIdleMs: 1000, clock: systemClock });
    jest.advanceTimersByTime(500);
    expect(check.run()).toMatchObject({ ok: true, detail: { sinceMs: 500, ever: true } });
    jest.advanceTimersByTime(501);
    expect(check.run()).toMatchObject({ ok: false });
  });
});
