import { defineErrorCodes } from '@sov/core';

/**
 * The error codes `@sov/events` owns, with the HTTP status each is sent with.
 * Registered with `@sov/core` when the package loads; unique across packages.
 */
export const EVENTS_ERROR_CODES = defineErrorCodes('@sov/events', {
  /** A bounded event queue is full and its policy is to refuse (`QueueFullError`). */
  QUEUE_FULL: 429,
} as const);

/** An error code of `@sov/events`. */
export type EventsErrorCode = keyof typeof EVENTS_ERROR_CODES;

type EventsErrorCodeTable = typeof EVENTS_ERROR_CODES;

declare module '@sov/core' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging adds the codes to SovErrorCode
  interface SovErrorCodeMap extends EventsErrorCodeTable {}
}
