import { CancelledError, abortErrorOf, isCancelledError } from './cancelledError';
import { RemoteError, isRemoteError } from './remoteError';
import { SovError, hasErrorCode, isSovError, isWireFailure, toSovError } from './sovError';
import { TimeoutError, isTimeoutError } from './timeoutError';
import { ValidationError } from './validationError';

describe('errors', () => {
  it('carries a stable code, the cause, and the wire form', () => {
    const cause = new Error('disk full');
    const e = new SovError('CAPABILITY_FAILED', 'Capability state failed to start', { cause });
    expect(e.cause).toBe(cause);
    expect(e.status).toBe(500);
    expect(e.toWire()).toEqual({ success: false, error: { code: 'CAPABILITY_FAILED', message: 'Capability state failed to start' } });
    expect(isWireFailure(e.toWire())).toBe(true);
  });

  it('recognises errors from another copy of the package by brand, not instanceof', () => {
    const foreign = Object.assign(Object.create(null) as object, {
      [Symbol.for('@sov/core/SovError')]: true,
      code: 'TIMEOUT',
      name: 'TimeoutError',
      message: 'x',
    });
    expect(isSovError(foreign)).toBe(true);
    expect(isTimeoutError(foreign)).toBe(true);
    expect(isSovError({ code: 'TIMEOUT' })).toBe(false);
    expect(isTimeoutError(new TimeoutError('call', 10))).toBe(true);
  });

  it('normalises anything thrown', () => {
    expect(toSovError('boom')).toMatchObject({ code: 'INTERNAL', message: 'Non-error thrown: boom' });
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toSovError(abort).code).toBe('CANCELLED');
    expect(isCancelledError(toSovError(abort))).toBe(true);
    const timedOut = Object.assign(new Error('aborted'), { name: 'AbortError', cause: new DOMException('timeout', 'TimeoutError') });
    expect(toSovError(timedOut).code).toBe('TIMEOUT');
    expect(toSovError(new DOMException('The operation was aborted due to timeout', 'TimeoutError')).code).toBe('TIMEOUT');
    const shutdown = new SovError('SHUTTING_DOWN', 'bye');
    expect(toSovError(Object.assign(new Error('aborted'), { name: 'AbortError', cause: shutdown }))).toBe(shutdown);
    const same = new SovError('NOT_FOUND', 'x');
    expect(toSovError(same)).toBe(same);
    expect(hasErrorCode(same, 'NOT_FOUND')).toBe(true);
  });

  it('tells a caller\'s cancellation from a timeout and from a peer\'s CANCELLED answer', () => {
    const e = new CancelledError('POST http://a/rpc', { cause: new Error('user left') });
    expect(e).toMatchObject({ code: 'CANCELLED', status: 499, message: 'POST http://a/rpc was cancelled by the caller: user left' });
    const foreign = Object.assign(Object.create(null) as object, { [Symbol.for('@sov/core/SovError')]: true, code: 'CANCELLED', name: 'CancelledError', message: 'x' });
    expect(isCancelledError(foreign)).toBe(true);
    const remote = new RemoteError({ code: 'CANCELLED', message: 'x', status: 499, method: 'POST', url: 'http://a/rpc' });
    expect(isCancelledError(remote)).toBe(false);
    expect(isCancelledError(new TimeoutError('call', 10))).toBe(false);
    const plain = new AbortController();
    plain.abort();
    expect(abortErrorOf(plain.signal, 'work')).toMatchObject({ code: 'CANCELLED', message: 'work was cancelled by the caller' });
    const timed = new AbortController();
    timed.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(abortErrorOf(timed.signal, 'work').code).toBe('TIMEOUT');
  });

  it('lists every bad field in a ValidationError', () => {
    const e = new ValidationError('input', [
      { path: '/a', message: 'must be string' },
      { path: '/b', message: 'is required' },
    ]);
    expect(e.message).toBe('Invalid input: /a must be string; /b is required');
    expect(e.toWire().error.details).toHaveLength(2);
  });

  it('keeps a remote code it knows and maps one it does not to REMOTE_ERROR, keeping the one sent as remoteCode', () => {
    const known = new RemoteError({ code: 'INSUFFICIENT_STAKE', message: 'need 100', status: 402, method: 'POST', url: 'http://a/rpc' });
    expect(known.code).toBe('INSUFFICIENT_STAKE');
    expect(known.remoteCode).toBe('INSUFFICIENT_STAKE');
    expect(known.status).toBe(402);
    expect(known.message).toBe('POST http://a/rpc answered 402 INSUFFICIENT_STAKE: need 100');
    // A newer peer's code, or one of a package this process does not load.
    const unknown = new RemoteError({ code: 'WAT_NEW_IN_V9', message: 'x', status: 503, method: 'GET', url: 'http://a' });
    expect(unknown.code).toBe('REMOTE_ERROR');
    expect(unknown.remoteCode).toBe('WAT_NEW_IN_V9');
    expect(unknown.status).toBe(503);
    expect(unknown.message).toBe('GET http://a answered 503 WAT_NEW_IN_V9: x');
    expect(unknown.toWire()).toEqual({ success: false, error: { code: 'REMOTE_ERROR', message: 'GET http://a answered 503 WAT_NEW_IN_V9: x' } });
    expect(isRemoteError(unknown)).toBe(true);
    expect(isSovError(unknown)).toBe(true);
  });

  it('matches a code by its string, also the one a peer sent that this process does not know', () => {
    const unknown = new RemoteError({ code: 'HANDLER_FAILED_LATER', message: 'boom', status: 500, method: 'POST', url: 'http://a/rpc' });
    expect(hasErrorCode(unknown, 'HANDLER_FAILED_LATER')).toBe(true);
    expect(hasErrorCode(unknown, 'REMOTE_ERROR')).toBe(true);
    expect(hasErrorCode(unknown, 'TIMEOUT')).toBe(false);
    expect(hasErrorCode(new SovError('TIMEOUT', 'late'), 'TIMEOUT')).toBe(true);
    expect(hasErrorCode({ code: 'TIMEOUT', remoteCode: 'TIMEOUT' }, 'TIMEOUT')).toBe(false);
  });
});
