import { isSovError, SovError } from '@sov/core';
import './stateErrorCodes'; // registers this package's error codes with core, also when this file is loaded without the index

/**
 * A state directory that another writer holds. Names the lock file and, when
 * known, the owner's pid and host.
 */
export class StateLockedError extends SovError {
  /** The lock file. */
  readonly lockPath: string;
  /** The pid of the owner, when the lock file says. */
  readonly ownerPid: number | undefined;
  /** The host of the owner, when the lock file says. */
  readonly ownerHost: string | undefined;

  constructor(lockPath: string, message: string, owner: { pid?: number; host?: string } = {}, options: { cause?: unknown } = {}) {
    super('STATE_LOCKED', message, { ...options, details: { lockPath, ownerPid: owner.pid, ownerHost: owner.host } });
    this.name = 'StateLockedError';
    this.lockPath = lockPath;
    this.ownerPid = owner.pid;
    this.ownerHost = owner.host;
  }
}

/** Whether a value is a StateLockedError (from any copy of the package). */
export function isStateLockedError(value: unknown): value is StateLockedError {
  return value instanceof StateLockedError || (isSovError(value) && value.name === 'StateLockedError');
}
