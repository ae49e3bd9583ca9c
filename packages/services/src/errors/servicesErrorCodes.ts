import { defineErrorCodes } from '@sov/core';

declare module '@sov/core' {
  interface SovErrorCodeMap extends ServicesErrorCodeTable {}
}

/**
 * The error codes `@sov/services` owns, with the HTTP status each is sent
 * with. Registered with `@sov/core` when the package loads; unique across
 * packages. The call protocol's refusals (SERVICE_NAME_MISSING,
 * SERVICE_NOT_FOUND, INSUFFICIENT_STAKE, INVALID_INPUT, TIMEOUT) are core's:
 * every request handler answers them, and core's clients receive them.
 *
 * A caller that does not load `@sov/services` receives these codes from a peer
 * as REMOTE_ERROR with `remoteCode` set; `hasErrorCode(e, 'HANDLER_FAILED')`
 * matches either way.
 */
export const SERVICES_ERROR_CODES = defineErrorCodes('@sov/services', {
  /** A service handler threw something that is not a SovError (its message is sent when `exposeErrors`). */
  HANDLER_FAILED: 500,
  /** A service answered with output that breaks its output schema. */
  OUTPUT_INVALID: 500,
} as const);

/** An error code of `@sov/services`. */
export type ServicesErrorCode = keyof typeof SERVICES_ERROR_CODES;
type ServicesErrorCodeTable = typeof SERVICES_ERROR_CODES;
