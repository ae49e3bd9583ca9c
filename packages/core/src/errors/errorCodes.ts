/**
 * Every error code the SDK puts on the wire, with the HTTP status it maps to.
 * Codes are stable: clients branch on them, so a code is never renamed.
 */
export const ERROR_CODES = {
  // input
  INVALID_INPUT: 400,
  INVALID_JSON: 400,
  /** A request the HTTP layer could not read (bad URL encoding, framing, a missing Host header). */
  MALFORMED_REQUEST: 400,
  /** An amount (stake, price) that is not a whole number of minor units inside the documented range. */
  INVALID_AMOUNT: 400,
  URI_TOO_LONG: 414,
  /** An `Expect` header other than 100-continue, which the server cannot meet. */
  EXPECTATION_FAILED: 417,
  HEADERS_TOO_LARGE: 431,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // identity and signatures
  UNAUTHORIZED: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_EXPIRED: 401,
  REPLAY_DETECTED: 401,
  /** A signed request addressed to another receiver (another agent id or authority). */
  WRONG_RECEIVER: 401,
  /** A request under a session the receiver does not hold (it restarted, or never opened it): open a new session. */
  SESSION_UNKNOWN: 401,
  /** A request under a session past its expiry: open a new session. */
  SESSION_EXPIRED: 401,
  FORBIDDEN: 403,
  ID_MISMATCH: 403,
  // lookups and conflicts
  NOT_FOUND: 404,
  LEASE_EXPIRED: 404,
  ROUTE_NOT_FOUND: 404,
  CONFLICT: 409,
  // services
  SERVICE_NAME_MISSING: 400,
  SERVICE_NOT_FOUND: 404,
  INSUFFICIENT_STAKE: 402,
  HANDLER_FAILED: 500,
  OUTPUT_INVALID: 500,
  // load and time
  RATE_LIMITED: 429,
  TOO_MANY_IN_FLIGHT: 429,
  BULKHEAD_FULL: 429,
  /** A bounded queue (an agent's event queue) is full and its policy is to refuse. */
  QUEUE_FULL: 429,
  CIRCUIT_OPEN: 503,
  TIMEOUT: 504,
  /** The caller's own abort: never retried, never failed over. 499 as nginx's "client closed request". */
  CANCELLED: 499,
  SHUTTING_DOWN: 503,
  UNAVAILABLE: 503,
  NOT_READY: 503,
  // transport
  NETWORK_ERROR: 502,
  REMOTE_ERROR: 502,
  /** A peer's reply body was larger than the caller's cap. */
  RESPONSE_TOO_LARGE: 502,
  // crypto
  DECRYPTION_FAILED: 400,
  ENVELOPE_EXPIRED: 400,
  UNKNOWN_SENDER: 404,
  WRONG_RECIPIENT: 400,
  KEYSTORE_INVALID: 500,
  KEYSTORE_PASSPHRASE: 500,
  // state
  STATE_LOCKED: 423,
  STATE_CORRUPT: 500,
  NOT_SERIALIZABLE: 400,
  STATE_CLOSED: 500,
  /** The store could not write (disk full, I/O error); nothing was acknowledged. */
  STATE_WRITE_FAILED: 503,
  // federation (@sov/federation and the registry's federation routes)
  /** No chain of peered registries leads to the target registry within the hop limit. */
  NO_FEDERATION_PATH: 404,
  /** A routed request whose path names one registry twice. */
  FEDERATION_LOOP: 400,
  /** A routed request whose path has more hops than the registry allows. */
  FEDERATION_HOP_LIMIT: 400,
  /** A routed request reached a registry that is not its next hop, or came from one that is not its previous hop. */
  FEDERATION_WRONG_HOP: 403,
  /** A routed request or its answer does not carry the signatures it should: something on its path altered it. */
  ROUTE_TAMPERED: 403,
  // kernel
  INVALID_CONFIG: 500,
  LIFECYCLE: 500,
  CAPABILITY_FAILED: 500,
  INTERNAL: 500,
} as const;

/** A stable error code. */
export type SovErrorCode = keyof typeof ERROR_CODES;

/** The HTTP status that carries an error code; 500 for a code this version does not know. */
export function httpStatusOf(code: string): number {
  return (ERROR_CODES as Record<string, number>)[code] ?? 500;
}

/** Whether a string is one of the SDK's error codes. */
export function isSovErrorCode(code: unknown): code is SovErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}
