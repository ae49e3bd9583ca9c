import { defineErrorCodes } from '@sov/core';

declare module '@sov/core' {
  interface SovErrorCodeMap extends EventsErrorCodeTable {}
}

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
