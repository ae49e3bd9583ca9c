import { createHmac, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import { RECEIVER_HEADER, SovError, systemClock, type Clock, type VerifiableRequest, type VerifiedCaller, type Verifier } from '@sov/core';
import { publicKeyFromDidKey } from './didKey';
import { NonceCache } from './nonceCache';
import type { SessionTable } from './sessionTable';
import { fromBase64 } from './internal/base64url';
import { contentDigestMatches } from './internal/contentDigest';
import { REQUIRED_COMPONENTS, SIGNATURE_LABEL, splitTarget } from './internal/signatureBase';
import {
  parseByteSequences,
  parseCanonicalSignatureInput,
  parseSignatureInput,
  serializeInnerList,
  type InnerList,
} from './internal/structuredFields';

/** Options of RequestVerifier. */
export interface RequestVerifierOptions {
  /** How long after its `created` time a signature is accepted, in seconds. @default 60 */
  windowSec?: number;
  /** How far in the future `created` may be (the callers' clocks run ahead), in seconds. @default 5 */
  maxSkewSec?: number;
  /**
   * Most nonces remembered at once. When full, the oldest is evicted and
   * requests created before it are refused as too old to check (see
   * NonceCache), so memory stays bounded and no replay gets through. `created`
   * has one-second resolution: a burst of more than maxNonces requests within
   * one second refuses the rest of that second (SIGNATURE_EXPIRED, sign again).
   * @default 100000
   */
  maxNonces?: number;
  /** Refuse signatures that do not cover `@authority`. @default false */
  requireAuthority?: boolean;
  /** @default the system clock */
  clock?: Clock;
  /**
   * The sessions this receiver opened (see SessionTable): requests signed
   * under one (`alg="hmac-sha256"`, keyid = session id) are verified with its
   * key, and `acceptSession` answers handshakes. Without it, session
   * signatures are refused (the registry takes Ed25519 signatures only).
   * @default none
   */
  sessions?: SessionTable;
}

// What our session signer sends: one sig1 member holding 32 bytes of base64, in its one canonical spelling
// (the last character carries 4 bits and 2 zero bits), so it decodes without a round trip.
const SIMPLE_MAC = new RegExp(`^${SIGNATURE_LABEL}=:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=:$`);
const SEQUENCE = /^[1-9][0-9]{0,15}$/;
// What our signer sends: one sig1 member holding 64 bytes of base64, canonical (the last character carries 2 bits and 4 zero bits).
const SIMPLE_SIGNATURE = new RegExp(`^${SIGNATURE_LABEL}=:[A-Za-z0-9+/]{85}[AQgw]==:$`);
const NONCE = /^[A-Za-z0-9_\-+/=]{16,128}$/;
const DERIVED = new Set(['@method', '@authority', '@path', '@query']);
const FIELD_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;

function header(request: VerifiableRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function invalid(message: string): SovError {
  return new SovError('SIGNATURE_INVALID', message);
}

/**
 * Verifies signed requests (RFC 9421 + RFC 9530, Ed25519, key id = did:key):
 * the signature over the covered components, the body against
 * Content-Digest, `created` inside the window, and the nonce never seen
 * before inside the window. Implements core's `Verifier` port; no key lookup
 * is needed because the key id names the key. Refusals are SovErrors:
 * UNAUTHORIZED (unsigned), SIGNATURE_INVALID, SIGNATURE_EXPIRED, REPLAY_DETECTED.
 *
 * @example
 * const verifier = new RequestVerifier({ windowSec: 60 });
 * const { id } = verifier.verify({ method, path, authority, headers, body });
 */
export class RequestVerifier implements Verifier {
  readonly #windowSec: number;
  readonly #maxSkewSec: number;
  readonly #requireAuthority: boolean;
  readonly #clock: Clock;
  readonly #nonces: NonceCache;
  readonly #sessions: SessionTable | undefined;
  // Component lists already found acceptable: callers use one or two. The parser shares the item arrays of
  // lists it has seen, so most requests are found by identity, without joining their items.
  readonly #coverageAccepted = new Set<string>();
  readonly #coverageAcceptedLists = new WeakSet<readonly string[]>();
  // The key last verified: a caller sends many requests in a row.
  #lastKeyId = '';
  #lastKey: KeyObject | undefined;

  constructor(options: RequestVerifierOptions = {}) {
    this.#windowSec = options.windowSec ?? 60;
    this.#maxSkewSec = options.maxSkewSec ?? 5;
    if (!(this.#windowSec > 0)) throw new RangeError(`windowSec must be positive, got ${options.windowSec}`);
    if (!(this.#maxSkewSec >= 0)) throw new RangeError(`maxSkewSec must be zero or more, got ${options.maxSkewSec}`);
    this.#requireAuthority = options.requireAuthority ?? false;
    this.#clock = options.clock ?? systemClock;
    this.#nonces = new NonceCache({ maxEntries: options.maxNonces ?? 100_000, clock: this.#clock });
    const sessions = options.sessions;
    this.#sessions = sessions;
    // Without a session table there is no handshake to answer: the endpoint then serves no session route.
    this.acceptSession = sessions ? (caller, offer) => sessions.accept(caller, offer) : undefined;
  }

  /**
   * Answers a caller's session handshake (see SessionTable.accept); the
   * endpoint calls it for a request it verified as signed per request by
   * `caller` for this receiver. Undefined when the verifier holds no sessions.
   */
  readonly acceptSession: ((caller: VerifiedCaller, offer: unknown) => Record<string, unknown>) | undefined;

  /** Whether the request carries a signature at all. */
  isSigned(request: VerifiableRequest): boolean {
    return request.headers['signature'] !== undefined || request.headers['signature-input'] !== undefined;
  }

  /** Verifies the request and returns the caller; throws a SovError to refuse. */
  verify(request: VerifiableRequest): VerifiedCaller {
    const inputHeader = header(request, 'signature-input');
    const signatureHeader = header(request, 'signature');
    if (inputHeader === undefined || signatureHeader === undefined) {
      throw new SovError('UNAUTHORIZED', 'Request is not signed: it needs both Signature-Input and Signature headers');
    }
    const canonical = parseCanonicalSignatureInput(inputHeader);
    const input = canonical?.label === SIGNATURE_LABEL ? canonical.list : parseSignatureInput(inputHeader)?.get(SIGNATURE_LABEL);
    if (!input) throw invalid(`Signature-Input is malformed or has no "${SIGNATURE_LABEL}" member`);
    const serializedParams = canonical?.label === SIGNATURE_LABEL ? canonical.serialized : serializeInnerList(input);
    const { keyId, created, nonce, expires, alg } = this.#readParams(input);
    const session = alg === 'hmac-sha256';
    const simple = session ? SIMPLE_MAC : SIMPLE_SIGNATURE;
    const length = session ? 32 : 64;
    let signature: Buffer | undefined;
    if (simple.test(signatureHeader)) {
      // Canonical by the pattern: decodes to exactly `length` bytes.
      signature = Buffer.from(signatureHeader.slice(SIGNATURE_LABEL.length + 2, -1), 'base64');
    } else {
      const signatureText = parseByteSequences(signatureHeader)?.get(SIGNATURE_LABEL);
      signature = signatureText === undefined ? undefined : fromBase64(signatureText, length);
    }
    if (!signature) throw invalid(`Signature is malformed or has no ${length}-byte "${SIGNATURE_LABEL}" member`);

    this.#checkCoverage(input.items);
    this.#checkSovHeaders(request, input.items);
    if (request.receiver) this.#checkReceiver(request, input.items);
    this.#checkTime(created, expires);
    if (session) return this.#verifySession(request, input, serializedParams, keyId, nonce, signature);

    if (!NONCE.test(nonce)) throw invalid('Signature-Input has no nonce of 16 to 128 characters');
    const key = this.#keyOf(keyId);
    this.#checkDigest(request);
    const base = this.#signatureBase(request, input, serializedParams);
    if (!verifySignature(null, Buffer.from(base), key, signature)) {
      throw invalid(`Signature does not verify for keyid ${keyId} (${request.method} ${request.path})`);
    }

    const verdict = this.#nonces.add(`${keyId} ${nonce}`, (created + this.#windowSec) * 1000);
    if (verdict === 'replay') throw new SovError('REPLAY_DETECTED', `Nonce ${nonce} from ${keyId} was already used`);
    if (verdict === 'evicted') {
      throw new SovError('SIGNATURE_EXPIRED', `Signature created at ${created} is too old to be checked for replay while nonce memory is full; sign again`);
    }
    return { id: keyId, keyId };
  }

  #keyOf(keyId: string): KeyObject {
    if (keyId === this.#lastKeyId && this.#lastKey) return this.#lastKey;
    let key: KeyObject;
    try {
      key = publicKeyFromDidKey(keyId);
    } catch {
      throw invalid(`keyid ${JSON.stringify(keyId.slice(0, 80))} is not an Ed25519 did:key`);
    }
    this.#lastKeyId = keyId;
    this.#lastKey = key;
    return key;
  }

  #checkDigest(request: VerifiableRequest): void {
    const digest = header(request, 'content-digest');
    if (digest === undefined || !contentDigestMatches(digest, request.body)) {
      throw invalid(`Content-Digest does not match the request body (${request.method} ${request.path})`);
    }
  }

  /** A request under a session: the session's key, its expiry, and its sequence number never used before. */
  #verifySession(request: VerifiableRequest, input: InnerList, serializedParams: string, keyId: string, nonce: string, mac: Buffer): VerifiedCaller {
    if (!this.#sessions) throw invalid('This receiver takes no session signatures (alg "hmac-sha256"); sign with the identity key');
    if (!SEQUENCE.test(nonce)) throw invalid('A session signature nonce must be its sequence number (1 to 16 digits)');
    const held = this.#sessions.get(keyId);
    if (!held) throw new SovError('SESSION_UNKNOWN', `Session ${JSON.stringify(keyId.slice(0, 80))} is not open at this receiver; open a new one`);
    if (this.#sessions.expired(held)) {
      this.#sessions.delete(keyId);
      throw new SovError('SESSION_EXPIRED', `Session ${keyId} expired at ${new Date(held.expiresAt).toISOString()}; open a new one`);
    }
    this.#checkDigest(request);
    const base = this.#signatureBase(request, input, serializedParams);
    const expected = createHmac('sha256', held.key).update(base).digest();
    if (!timingSafeEqual(expected, mac)) throw invalid(`Session signature does not verify for session ${keyId} (${request.method} ${request.path})`);
    const verdict = held.replay.accept(Number(nonce));
    if (verdict === 'replay') throw new SovError('REPLAY_DETECTED', `Sequence number ${nonce} of session ${keyId} was already used`);
    if (verdict === 'stale') throw new SovError('SIGNATURE_EXPIRED', `Sequence number ${nonce} of session ${keyId} is too far behind the newest to be checked for replay; sign again`);
    return { id: held.callerId, keyId, session: keyId };
  }

  #readParams(input: InnerList): { keyId: string; created: number; nonce: string; expires: number | undefined; alg: string } {
    const keyId = input.params.get('keyid');
    const created = input.params.get('created');
    const nonce = input.params.get('nonce');
    const alg = input.params.get('alg');
    const expires = input.params.get('expires');
    if (typeof keyId !== 'string') throw invalid('Signature-Input has no keyid string');
    if (typeof created !== 'number' || !Number.isSafeInteger(created)) throw invalid('Signature-Input has no integer created time');
    if (typeof nonce !== 'string') throw invalid('Signature-Input has no nonce string');
    if (alg !== undefined && alg !== 'ed25519' && alg !== 'hmac-sha256') {
      throw invalid(`Unsupported signature alg ${JSON.stringify(alg)}; "ed25519" (per request) and "hmac-sha256" (under a session) are accepted`);
    }
    if (expires !== undefined && typeof expires !== 'number') throw invalid('Signature-Input expires is not an integer');
    return { keyId, created, nonce, expires, alg: alg ?? 'ed25519' };
  }

  #checkCoverage(items: readonly string[]): void {
    if (this.#coverageAcceptedLists.has(items)) return;
    const key = items.join(' ');
    if (this.#coverageAccepted.has(key)) {
      if (Object.isFrozen(items)) this.#coverageAcceptedLists.add(items);
      return;
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (items.indexOf(item) !== i) throw invalid(`Component ${item} is covered twice`);
      if (item.startsWith('@') ? !DERIVED.has(item) : !FIELD_NAME.test(item)) {
        throw invalid(`Unsupported covered component ${JSON.stringify(item)}`);
      }
    }
    for (const required of REQUIRED_COMPONENTS) {
      if (!items.includes(required)) throw invalid(`Signature must cover ${REQUIRED_COMPONENTS.join(', ')}; ${required} is missing`);
    }
    if (this.#requireAuthority && !items.includes('@authority')) throw invalid('Signature must cover @authority');
    if (this.#coverageAccepted.size >= 64) this.#coverageAccepted.clear();
    this.#coverageAccepted.add(key);
    // A frozen list is one the parser shares between requests: later ones are found by identity.
    if (Object.isFrozen(items)) this.#coverageAcceptedLists.add(items);
  }

  // Whatever changes what the receiver does or signs (x-sov-receipt, x-sov-receiver, ...) must be signed.
  #checkSovHeaders(request: VerifiableRequest, items: readonly string[]): void {
    for (const name of Object.keys(request.headers)) {
      if (name.startsWith('x-sov-') && !items.includes(name)) {
        throw invalid(`Header ${name} is not covered by the signature; sign every x-sov-* header`);
      }
    }
  }

  /**
   * The request must be signed for this receiver: by its id when it names
   * one (x-sov-receiver), else by one of its own authorities, never by
   * whatever Host the sender chose.
   */
  #checkReceiver(request: VerifiableRequest, items: readonly string[]): void {
    const receiver = request.receiver!;
    if (items.includes(RECEIVER_HEADER)) {
      const named = header(request, RECEIVER_HEADER)?.trim() ?? '';
      if (receiver.id === undefined || named !== receiver.id) {
        throw new SovError(
          'WRONG_RECEIVER',
          `Request is signed for ${JSON.stringify(named.slice(0, 120))}; this receiver is ${receiver.id ?? 'not an agent (it has no id)'}`,
        );
      }
      return;
    }
    if (!items.includes('@authority')) {
      throw invalid(`Signature must name its receiver: cover ${RECEIVER_HEADER} or @authority`);
    }
    const authority = request.authority.toLowerCase();
    if (!receiver.authorities.has(authority)) {
      throw new SovError(
        'WRONG_RECEIVER',
        `Request is signed for ${JSON.stringify(authority.slice(0, 120))}; this receiver answers to ${[...receiver.authorities].join(', ')} (set its publicUrl if it is reached under another name)`,
      );
    }
  }

  #checkTime(created: number, expires: number | undefined): void {
    const now = this.#clock.now() / 1000;
    if (created > now + this.#maxSkewSec) {
      throw new SovError('SIGNATURE_EXPIRED', `Signature created ${Math.round(created - now)} s in the future (clock skew allowed: ${this.#maxSkewSec} s)`);
    }
    if (now >= created + this.#windowSec) {
      throw new SovError('SIGNATURE_EXPIRED', `Signature created ${Math.round(now - created)} s ago is outside the ${this.#windowSec} s window`);
    }
    if (expires !== undefined && now >= expires) throw new SovError('SIGNATURE_EXPIRED', `Signature expired at ${expires}`);
  }

  #signatureBase(request: VerifiableRequest, input: InnerList, serializedParams: string): string {
    let target: { path: string; query: string } | undefined;
    let base = '';
    for (const item of input.items) {
      let value: string | undefined;
      switch (item) {
        case '@method':
          value = request.method;
          break;
        case '@authority':
          value = request.authority.toLowerCase();
          break;
        case '@path':
          value = (target ??= splitTarget(this.#originForm(request.path))).path;
          break;
        case '@query':
          value = (target ??= splitTarget(this.#originForm(request.path))).query;
          break;
        default:
          value = header(request, item)?.trim();
          if (value === undefined) throw invalid(`Covered header ${item} is missing from the request`);
      }
      base += `"${item}": ${value}\n`;
    }
    return `${base}"@signature-params": ${serializedParams}`;
  }

  // A request line may carry an absolute URL (through a proxy): keep only path and query.
  #originForm(target: string): string {
    if (target.startsWith('/')) return target;
    try {
      const url = new URL(target);
      return url.pathname + url.search;
    } catch {
      throw invalid(`Request target ${JSON.stringify(target.slice(0, 80))} is not a path`);
    }
  }
}
