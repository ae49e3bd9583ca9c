import { CancelledError, NetworkError, RemoteError, SovError, TimeoutError, toSovError } from '@sov/core';
import { BulkheadRejectedError } from './errors/bulkheadRejectedError';
import { CircuitOpenError } from './errors/circuitOpenError';
import { isRetryable, retryAfterOf } from './isRetryable';

const remote = (status: number, code: string, retryAfterMs?: number) =>
  new RemoteError({ code, message: 'm', status, method: 'GET', url: 'http://x', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

describe('isRetryable', () => {
  it.each([
    ['a network error', new NetworkError('GET', 'http://x'), true],
    ['a timeout', new TimeoutError('GET http://x', 100), true],
    ['a 500', remote(500, 'INTERNAL'), true],
    ['a 503', remote(503, 'UNAVAILABLE'), true],
    ['a 429', remote(429, 'RATE_LIMITED'), true],
    ['a 400', remote(400, 'INVALID_INPUT'), false],
    ['a 404', remote(404, 'NOT_FOUND'), false],
    ['a 409', remote(409, 'CONFLICT'), false],
    ['a bad signature answer', remote(401, 'SIGNATURE_INVALID'), false],
    ['a local bad signature', new SovError('SIGNATURE_INVALID', 'bad'), false],
    ['an open circuit', new CircuitOpenError('peer'), false],
    ['a full bulkhead', new BulkheadRejectedError('peer', 1, 0), false],
    ['a reset socket', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['fetch failed, refused', new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }), true],
    ['a caller\'s cancellation', new CancelledError('POST http://x/rpc'), false],
    ['a cancellation wrapping a reset socket', new CancelledError('POST http://x/rpc', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }), false],
    ['an AbortError made a SovError', toSovError(Object.assign(new Error('aborted'), { name: 'AbortError' })), false],
    ['a bare AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
    ['cockatiel\'s TaskCancelledError', Object.assign(new Error('Operation cancelled'), { isTaskCancelledError: true }), false],
    ['a plain error', new Error('bug'), false],
    ['a string', 'nope', false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });

  it('reads Retry-After from a remote answer or from details', () => {
    expect(retryAfterOf(remote(429, 'RATE_LIMITED', 3000))).toBe(3000);
    expect(retryAfterOf(new SovError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 500 } }))).toBe(500);
    expect(retryAfterOf(new Error('x'))).toBeUndefined();
  });
});
