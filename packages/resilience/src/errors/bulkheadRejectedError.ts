import { isSovError, SovError } from '@sov/core';

/** A call refused because its bulkhead has no free slot and no room left in its queue. */
export class BulkheadRejectedError extends SovError {
  /** The bulkhead's name. */
  readonly bulkhead: string;
  /** Calls the bulkhead runs at once. */
  readonly limit: number;
  /** Calls it lets wait. */
  readonly queue: number;

  constructor(bulkhead: string, limit: number, queue: number) {
    super('BULKHEAD_FULL', `Bulkhead "${bulkhead}" is full: ${limit} running, ${queue} queued`, { details: { bulkhead, limit, queue } });
    this.name = 'BulkheadRejectedError';
    this.bulkhead = bulkhead;
    this.limit = limit;
    this.queue = queue;
  }
}

/** Whether a value is a BulkheadRejectedError (from this or any other copy of the package). */
export function isBulkheadRejectedError(value: unknown): value is BulkheadRejectedError {
  return value instanceof BulkheadRejectedError || (isSovError(value) && value.code === 'BULKHEAD_FULL' && value.name === 'BulkheadRejectedError');
}
