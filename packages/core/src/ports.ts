/**
 * The identity ports. @sov/core defines them; @sov/crypto fills them. Core
 * signs and verifies through these interfaces only, so it never imports crypto.
 */

/** An outgoing request about to be signed. */
export interface SignableRequest {
  method: string;
  /** Absolute URL of the request. */
  url: string;
  /** The exact body bytes that will be sent (empty for none). */
  body: Uint8Array;
  /** Headers already set (content-type ...); the signer may cover some of them. */
  headers: Readonly<Record<string, string>>;
}

/** Signs outgoing requests (RFC 9421 HTTP Message Signatures in @sov/crypto). */
export interface Signer {
  /** The key id the signature names (the agent id for Ed25519 did:key identities). */
  readonly keyId: string;
  /** Returns the headers to add to the request (Signature, Signature-Input, Content-Digest ...). */
  sign(request: SignableRequest): Record<string, string> | Promise<Record<string, string>>;
}

/**
 * The header that names the receiver (its agent id) a request is signed for.
 * Signers cover it, as every `x-sov-*` header, so a request meant for one
 * agent is refused by every other (WRONG_RECEIVER).
 */
export const RECEIVER_HEADER = 'x-sov-receiver';

/**
 * Who a receiver is, as the receiver itself knows it (never as the sender
 * says): its agent id, and the authorities (host:port, lowercased) it is
 * reached at. A verifier given one refuses requests signed for anyone else.
 */
export interface ReceiverBinding {
  /** The receiver's agent id (a did:key); undefined for a receiver without one (a registry today). */
  id?: string;
  /** Every authority the receiver answers to: its public URL's and its bound address's. */
  authorities: ReadonlySet<string>;
}

/** An incoming request as received, before anything is done with it. */
export interface VerifiableRequest {
  method: string;
  /** Path with query string, as sent on the request line. */
  path: string;
  /** The authority the request was sent to (Host header). */
  authority: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body bytes. */
  body: Uint8Array;
  /** The receiver this request must be addressed to; without one the verifier checks no receiver. */
  receiver?: ReceiverBinding;
}

/** Who signed a request, once the signature, its freshness and its nonce have been checked. */
export interface VerifiedCaller {
  /** The caller's agent id. */
  id: string;
  /** The key id the signature named: the agent id (Ed25519), or a session id (HMAC under a session). */
  keyId: string;
  /** The session the request was authenticated under; undefined for a per-request Ed25519 signature. */
  session?: string;
}

/**
 * Verifies incoming requests; throws a SovError (SIGNATURE_INVALID,
 * SIGNATURE_EXPIRED, REPLAY_DETECTED, WRONG_RECEIVER, UNAUTHORIZED,
 * SESSION_UNKNOWN, SESSION_EXPIRED) to refuse.
 */
export interface Verifier {
  /** Whether the request carries a signature at all. */
  isSigned(request: VerifiableRequest): boolean;
  verify(request: VerifiableRequest): VerifiedCaller | Promise<VerifiedCaller>;
  /**
   * Opens a session for a caller (the receiver's half of session
   * authentication): `offer` is the body of a handshake request the endpoint
   * has already verified as signed per request by `caller` for this
   * receiver; the answer is the reply body. A verifier without it takes no
   * sessions, and the endpoint serves no session route.
   */
  acceptSession?: ((caller: VerifiedCaller, offer: unknown) => Record<string, unknown>) | undefined;
}

/** The path of an agent's session handshake route (POST, signed per request with the caller's identity key). */
export const SESSION_PATH = '/sov/session';

/** A handshake on its way: the body to POST to the receiver's SESSION_PATH, and what to do with the answer. */
export interface SessionOffer {
  body: Uint8Array;
  /** Checks the receiver's answer (its signature, the receiver it names) and opens the session; throws a SovError to refuse it. */
  complete(reply: unknown): void;
}

/**
 * The caller's half of session authentication (filled by @sov/crypto): one
 * Ed25519-signed key agreement per receiver, then requests authenticated
 * with a session key (RFC 9421, HMAC-SHA256). `peer` names one receiver:
 * its id when known, and the origin it is reached at.
 */
export interface SessionAuthenticator {
  /** The headers that authenticate `request` under the session open with `peer`, or undefined when there is none fresh enough. */
  sign(peer: string, request: SignableRequest): Record<string, string> | undefined;
  /** Starts a handshake with `peer`; `receiverId` is the agent id the caller expects to answer, when it knows it. */
  offer(peer: string, receiverId: string | undefined): SessionOffer;
  /** Forgets the session with `peer` (its receiver lost it or let it expire); only the one named, when `sessionId` is given. */
  forget(peer: string, sessionId?: string): void;
}

/** What an agent needs of its identity: an id and a way to sign. */
export interface AgentIdentity {
  /** The agent id (a did:key for Ed25519 identities). */
  readonly id: string;
  readonly signer: Signer;
  /** Public, signed facts to publish in the registry record (for example the X25519 key). */
  registrationMetadata?(): Record<string, unknown>;
  /** A verifier for incoming calls; the agent's endpoint installs it at initialize. */
  createVerifier?(): Verifier;
  /** The caller's half of session authentication, for agent.call; without it every call is signed per request. */
  createSessionAuthenticator?(): SessionAuthenticator;
  /** Signs a receipt for a call this agent served (base64url signature over `receiptPayload(receipt)`). */
  signReceipt?(receipt: UnsignedReceipt): string;
  /**
   * Signs bytes with the identity's key (Ed25519 for a did:key identity, so a
   * verifier needs only the id): what JWS signatures over an A2A agent card use.
   */
  sign?(data: Uint8Array): Uint8Array;
}

/** A call receipt before it is signed. */
export interface UnsignedReceipt {
  id: string;
  caller: string;
  callee: string;
  service: string;
  at: string;
}

/** The exact bytes a call receipt's signature covers. Signers and verifiers must both use this. */
export function receiptPayload(receipt: UnsignedReceipt): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify(['sov-receipt-v1', receipt.id, receipt.caller, receipt.callee, receipt.service, receipt.at]),
  );
}
