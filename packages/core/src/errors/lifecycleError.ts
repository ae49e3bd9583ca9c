import { isSovError, SovError } from './sovError';

/** A lifecycle call in a state that does not allow it, or a capability that failed a lifecycle step. */
export class LifecycleError extends SovError {
  constructor(message: string, options: { cause?: unknown; code?: 'LIFECYCLE' | 'CAPABILITY_FAILED' } = {}) {
    super(options.code ?? 'LIFECYCLE', message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'LifecycleError';
  }
}

/** Whether a value is a LifecycleError. */
export function isLifecycleError(value: unknown): value is LifecycleError {
  return value instanceof LifecycleError || (isSovError(value) && value.name === 'LifecycleError');
}
