/**
 * The kernel's own error codes, with the HTTP status each maps to. Codes are
 * stable: clients branch on them, so a code is never renamed.
 *
 * Codes of other packages (`STATE_*` of `@sov/state`, `KEYSTORE_*` of
 * `@sov/crypto`, `QUEUE_FULL` of `@sov/events` ...) are declared by those
 * packages with {@link defineErrorCodes}; they live in the same registry, so
 * `httpStatusOf` and the wire mapping work for every code a loaded package
 * declared. Core keeps the codes of the contracts it defines: input, identity
 * and sessions, lookups, the call protocol (its endpoint, PeerClient and
 * RegistryClient speak it), load and time, transport and lifecycle.
 */
export const CORE_ERROR_CODES = {
  // input
  INVALID_INPUT: 400,
  INVALID_JSON: 400,
  /** A request the HTTP layer could not read (bad URL encoding, framing, a missing Host header). */
  MALFORMED_REQUEST: 400,
  /** An amount (stake, price) that is not a whole number of minor units inside the documented range. */
  INVALID_AMOUNT: 400,
  /** A value that is not plain JSON, or past a size bound (stored state, journaled events, sealed messages). */
  NOT_SERIALIZABLE: 400,
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
  /** A registration whose agent id is not the one its key derives. */
  ID_MISMATCH: 403,
  // lookups and conflicts
  NOT_FOUND: 404,
  LEASE_EXPIRED: 404,
  ROUTE_NOT_FOUND: 404,
  CONFLICT: 409,
  // calls: the RPC protocol of the endpoint and PeerClient, answered by any request handler
  SERVICE_NAME_MISSING: 400,
  SERVICE_NOT_FOUND: 404,
  /** A caller's stake below what a service requires, or a debit past a stake (the registry's stake API). */
  INSUFFICIENT_STAKE: 402,
  // load and time
  RATE_LIMITED: 429,
  TOO_MANY_IN_FLIGHT: 429,
  BULKHEAD_FULL: 429,
  CIRCUIT_OPEN: 503,
  TIMEOUT: 504,
  /** The caller's own abort: never retried, never failed over. 499 as nginx's "client closed request". */
  CANCELLED: 499,
  SHUTTING_DOWN: 503,
  UNAVAILABLE: 503,
  NOT_READY: 503,
  // transport
  NETWORK_ERROR: 502,
  /** A peer's failure this process cannot name: a body that is not the wire format, or a code no loaded package declares (see `RemoteError.remoteCode`). */
  REMOTE_ERROR: 502,
  /** A peer's reply body was larger than the caller's cap. */
  RESPONSE_TOO_LARGE: 502,
  // kernel
  INVALID_CONFIG: 500,
  LIFECYCLE: 500,
  CAPABILITY_FAILED: 500,
  INTERNAL: 500,
} as const;

/** One of the kernel's own codes. */
export type CoreErrorCode = keyof typeof CORE_ERROR_CODES;

/**
 * Every error code the program knows, with its HTTP status: core's, and by
 * declaration merging those of every package it imports. A package that
 * declares codes adds them here, so that `SovError` accepts them where that
 * package is imported (and nowhere else):
 *
 * @example
 * export const STATE_ERROR_CODES = defineErrorCodes('@sov/state', { STATE_CORRUPT: 500 } as const);
 * declare module '@sov/core' {
 *   interface SovErrorCodeMap extends StateErrorCodeTable {}
 * }
 * type StateErrorCodeTable = typeof STATE_ERROR_CODES;
 */
export interface SovErrorCodeMap extends CoreErrorCodeTable {} // filled by declaration merging
type CoreErrorCodeTable = typeof CORE_ERROR_CODES;

/** A stable error code: core's or one a package this program imports declares. */
export type SovErrorCode = Extract<keyof SovErrorCodeMap, string>;

/** Who declared a code, and its status. */
interface CodeEntry {
  readonly owner: string;
  readonly status: number;
}

// One registry per process, shared by every copy of this package (its ESM and
// CJS builds, two versions in one tree): a code is known to all of them as
// soon as any copy registers it.
const REGISTRY_KEY = Symbol.for('@sov/core/errorCodeRegistry');
type Registry = Map<string, CodeEntry>;
const globals = globalThis as typeof globalThis & { [REGISTRY_KEY]?: Registry };
const registry: Registry = (globals[REGISTRY_KEY] ??= new Map<string, CodeEntry>());

/** The error `registerErrorCodes` reports for a code declared twice; `defineErrorCodes` throws it as a SovError. */
export interface CodeClash {
  code: string;
  owner: string;
  claimedBy: string;
}

/**
 * Registers `owner`'s codes, all or none. A code another owner already
 * declared is a clash (returned, nothing registered); the same owner
 * registering a code again (its ESM and CJS builds both loaded) is a no-op
 * that keeps the first status.
 *
 * @internal use `defineErrorCodes`
 */
export function registerErrorCodes(owner: string, codes: Readonly<Record<string, number>>): CodeClash | undefined {
  for (const code of Object.keys(codes)) {
    const known = registry.get(code);
    if (known && known.owner !== owner) return { code, owner: known.owner, claimedBy: owner };
  }
  for (const [code, status] of Object.entries(codes)) {
    if (!registry.has(code)) registry.set(code, { owner, status });
  }
  return undefined;
}

registerErrorCodes('@sov/core', CORE_ERROR_CODES);

/** The HTTP status that carries an error code; 500 for a code no loaded package declares. */
export function httpStatusOf(code: string): number {
  return registry.get(code)?.status ?? 500;
}

/** Whether a string is an error code that core or a loaded package declares. */
export function isSovErrorCode(code: unknown): code is SovErrorCode {
  return typeof code === 'string' && registry.has(code);
}

/** The package that declared a code (`'@sov/core'`, `'@sov/state'` ...), or undefined for a code no loaded package declares. */
export function errorCodeOwner(code: string): string | undefined {
  return registry.get(code)?.owner;
}

/**
 * Every code known to this process, with its owner and status: core's and
 * those of every package loaded so far.
 *
 * @example
 * for (const { code, owner, status } of registeredErrorCodes()) console.log(code, owner, status);
 */
export function registeredErrorCodes(): { code: SovErrorCode; owner: string; status: number }[] {
  return [...registry].map(([code, { owner, status }]) => ({ code: code as SovErrorCode, owner, status }));
}
