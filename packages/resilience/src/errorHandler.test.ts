import { NetworkError, ValidationError, type Logger } from '@sov/core';
import { CircuitBreaker } from './circuitBreaker';
import { ErrorHandler, ErrorSeverity } from './errorHandler';

class DiskFullError extends Error {
  override name = 'DiskFullError';
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  const logger: Logger = {
    error: (message, meta) => lines.push({ level: 'error', message, ...(meta ? { meta } : {}) }),
    warn: (message, meta) => lines.push({ level: 'warn', message, ...(meta ? { meta } : {}) }),
    info: (message, meta) => lines.push({ level: 'info', message, ...(meta ? { meta } : {}) }),
    debug: () => undefined,
    child: () => logger,
  };
  return { logger, lines };
}

describe('ErrorHandler', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('LOW logs and goes on, running its handler', async () => {
    const { logger, lines } = recordingLogger();
    const errors = new ErrorHandler({ logger });
    const handler = jest.fn(() => 'handled');
    errors.registerHandler(ValidationError, { severity: ErrorSeverity.LOW, handler });
    const error = new ValidationError('input', [{ path: '/x', message: 'must be a number' }]);
    const outcome = await errors.handle(error, { requestId: 'r1' });
    expect(outcome).toMatchObject({ severity: 'low', action: 'logged', value: 'handled', count: 1 });
    expect(handler).toHaveBeenCalledWith(error, { requestId: 'r1' });
    expect(lines[0]).toMatchObject({ level: 'warn', meta: { errorType: 'ValidationError', severity: 'low', context: { requestId: 'r1' } } });
  });

  it('MEDIUM retries the operation with backoff until it recovers', async () => {
    const errors = new ErrorHandler({ retry: { maxAttempts: 3, initialDelay: 100, jitter: 0 } });
    errors.registerHandler(NetworkError, { severity: ErrorSeverity.MEDIUM });
    let calls = 0;
    const retry = jest.fn(() => (++calls < 2 ? Promise.reject(new NetworkError('GET', 'http://x')) : Promise.resolve('fresh')));
    const handled = errors.handle(new NetworkError('GET', 'http://x'), { retry });
    await jest.advanceTimersByTimeAsync(99);
    expect(retry).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(retry).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(200);
    await expect(handled).resolves.toMatchObject({ severity: 'medium', action: 'retried', recovered: true, value: 'fresh' });
    expect(retry).toHaveBeenCalledTimes(2);
  });

  it('MEDIUM stops retrying on an error of another severity', async () => {
    const errors = new ErrorHandler({ retry: { maxAttempts: 5, initialDelay: 10, jitter: 0 } });
    errors.registerHandler(NetworkError, { severity: ErrorSeverity.MEDIUM });
    errors.registerHandler(ValidationError, { severity: ErrorSeverity.LOW });
    const bad = new ValidationError('reply', [{ path: '/', message: 'bad' }]);
    const retry = jest.fn(() => Promise.reject(bad));
    const handled = errors.handle(new NetworkError('GET', 'http://x'), { retry });
    await jest.advanceTimersByTimeAsync(10);
    await expect(handled).resolves.toMatchObject({ recovered: false, retryError: bad });
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('HIGH opens the circuit after breakAfter errors, for breakForMs', async () => {
    const breaker = new CircuitBreaker({ name: 'db' });
    const errors = new ErrorHandler();
    const breaks = jest.fn();
    errors.onCircuitBreak(breaks);
    errors.registerHandler(DiskFullError, { severity: ErrorSeverity.HIGH, breakAfter: 3, breaker, breakForMs: 5000 });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await errors.handle(new DiskFullError('disk full')));
    expect(outcomes.map((o) => o.action)).toEqual(['counted', 'counted', 'circuit-opened']);
    expect(breaker.state).toBe('isolated');
    expect(breaks).toHaveBeenCalledWith(expect.objectContaining({ errorClass: 'DiskFullError', count: 3 }));
    await expect(breaker.call(() => 'write')).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    await jest.advanceTimersByTimeAsync(5000);
    expect(breaker.state).toBe('closed');
    expect(errors.errorCounts()).toEqual({ DiskFullError: 3 });
  });

  it('CRITICAL alerts, then starts one graceful shutdown', async () => {
    const alerts: string[] = [];
    const shutdown = jest.fn(() => Promise.resolve());
    const errors = new ErrorHandler({ onCritical: (e) => void alerts.push(e.message), shutdown });
    errors.registerHandler(DiskFullError, { severity: ErrorSeverity.CRITICAL });
    const outcome = await errors.handle(new DiskFullError('journal cannot be written'));
    await Promise.resolve();
    expect(outcome).toMatchObject({ severity: 'critical', action: 'shutdown' });
    expect(alerts).toEqual(['journal cannot be written']);
    expect(shutdown).toHaveBeenCalledWith('critical error: journal cannot be written');
    await errors.handle(new DiskFullError('again'));
    await Promise.resolve();
    expect(shutdown).toHaveBeenCalledTimes(1);
    expect(alerts).toHaveLength(2);
  });

  it('finds the nearest registered ancestor; unregistered errors get the default severity; a failing handler is contained', async () => {
    class SlowDiskError extends DiskFullError {}
    const errors = new ErrorHandler({ defaultSeverity: ErrorSeverity.LOW });
    errors.registerHandler(Error, { severity: ErrorSeverity.MEDIUM });
    errors.registerHandler(DiskFullError, {
      severity: ErrorSeverity.LOW,
      handler: () => {
        throw new Error('handler bug');
      },
    });
    expect(errors.severityOf(new SlowDiskError('x'))).toBe('low');
    expect(errors.severityOf(new TypeError('x'))).toBe('medium');
    expect(new ErrorHandler().severityOf('a string')).toBe('medium');
    await expect(errors.handle(new SlowDiskError('x'))).resolves.toMatchObject({ severity: 'low', value: undefined });
  });
});
