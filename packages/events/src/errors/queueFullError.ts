import { isSovError, SovError } from '@sov/core';
import './eventsErrorCodes'; // registers this package's error codes with core, also when this file is loaded without the index

/**
 * An event refused because the queue is full and its policy is `reject` (or
 * too many emitters already wait for room under `wait`). Code QUEUE_FULL.
 * Nothing was queued.
 */
export class QueueFullError extends SovError {
  readonly capacity: number;

  constructor(type: string, capacity: number, why = 'its overflow policy is reject') {
    super('QUEUE_FULL', `Event "${type}" refused: the event queue is full (capacity ${capacity}) and ${why}`, {
      details: { capacity },
    });
    this.name = 'QueueFullError';
    this.capacity = capacity;
  }
}

/** Whether a value is a QueueFullError, from any copy of the package. */
export function isQueueFullError(value: unknown): value is QueueFullError {
  return value instanceof QueueFullError || (isSovError(value) && value.code === 'QUEUE_FULL');
}
