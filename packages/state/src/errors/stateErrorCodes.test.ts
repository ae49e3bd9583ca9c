import { SovError, errorCodeOwner, httpStatusOf } from '@sov/core';
import { StateClosedError } from './stateClosedError';
import { StateCorruptError } from './stateCorruptError';
import { STATE_ERROR_CODES } from './stateErrorCodes';
import { StateLockedError } from './stateLockedError';
import { StateWriteFailedError } from './stateWriteFailedError';

describe('the error codes @sov/state owns', () => {
  it('are registered under @sov/state with their status', () => {
    expect(STATE_ERROR_CODES).toEqual({ STATE_LOCKED: 423, STATE_CORRUPT: 500, STATE_CLOSED: 500, STATE_WRITE_FAILED: 503 });
    for (const [code, status] of Object.entries(STATE_ERROR_CODES)) {
      expect({ code, owner: errorCodeOwner(code), status: httpStatusOf(code) }).toEqual({ code, owner: '@sov/state', status });
    }
  });

  it('send each error class with its code and status on the wire', () => {
    const errors: SovError[] = [
      new StateLockedError('/s/LOCK', 'held by pid 7', { pid: 7 }),
      new StateCorruptError('/s/journal', 'bad record', { offset: 12 }),
      new StateClosedError('The store is not open'),
      new StateWriteFailedError('write', '/s/journal', Object.assign(new Error('no space left'), { code: 'ENOSPC' })),
    ];
    expect(errors.map((e) => [e.code, e.status, e.toWire().error.code])).toEqual([
      ['STATE_LOCKED', 423, 'STATE_LOCKED'],
      ['STATE_CORRUPT', 500, 'STATE_CORRUPT'],
      ['STATE_CLOSED', 500, 'STATE_CLOSED'],
      ['STATE_WRITE_FAILED', 503, 'STATE_WRITE_FAILED'],
    ]);
  });

  it("types: this package's errors take its codes and core's, not another package's", () => {
    expect(new SovError('STATE_CORRUPT', 'x').status).toBe(500);
    expect(new SovError('NOT_SERIALIZABLE', 'x').status).toBe(400);
    // @ts-expect-error QUEUE_FULL is @sov/events', which @sov/state does not import
    expect(new SovError('QUEUE_FULL', 'x').code).toBe('QUEUE_FULL');
  });
});
