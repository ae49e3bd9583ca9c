import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SovError, systemClock, type Clock, type SessionAuthenticator, type SessionOffer, type SignableRequest } from '@sov/core';
import { isDidKey, verifyDidSignature } from './didKey';
import { fromBase64Url, toBase64Url } from './internal/base64url';
import { rawPublicKey, x25519PublicKeyFromRaw } from './internal/rawKeys';
import { requestBase, UrlPartsCache } from './internal/requestBase';
import { SIGNATURE_LABEL } from './internal/signatureBase';
import { sessionKey, sessionTranscript } from './internal/sessionTranscript';

/** Options of SessionInitiator. */
export interface SessionInitiatorOptions {
  /**
   * Open a new session this many seconds before the current one expires, so
   * that no request is sent under a session about to end. @default 30
   */
  renewBeforeSec?: number;
  /** Receivers whose sessions are kept; past it, the one used longest ago is dropped. @default 10000 */
  maxPeers?: number;
  /** Cover `@authority` (see RequestSignerOptions.coverAuthority). @default true */
  coverAuthority?: boolean;
  /** @default the system clock */
  clock?: Clock;
}

/** A session the caller holds with one receiver. */
interface HeldSession {
  id: string;
  receiverId: string;
  key: Buffer;
  /** Epoch ms after which the receiver refuses it. */
  expiresAt: number;
  /** The sequence number of the last request sent under it (the RFC 9421 nonce). */
  seq: number;
}

interface SessionReply {
  v: 1;
  id: string;
  caller: string;
  receiver: string;
  ephemeral: string;
  expires: number;
  signature: string;
}

const SESSION_ID = /^s_[A-Za-z0-9_-]{24}$/;

function refused(what: string): SovError {
  return new SovError('SIGNATURE_INVALID', `Session handshake answer refused: ${what}`);
}

/**
 * The caller's half of session authentication (core's SessionAuthenticator
 * port). `offer` makes an ephemeral X25519 key pair; the receiver answers
 * with its own ephemeral key, a session id and an expiry, signed by its
 * identity key over both identities and both ephemeral keys; `complete`
 * checks that signature (against the receiver id expected, when there is
 * one) and derives the session key (HKDF-SHA256). Requests are then signed
 * per RFC 9421 with `alg="hmac-sha256"`, `keyid` the session id and `nonce`
 * a sequence number the receiver checks for replay. Sessions are renewed
 * `renewBeforeSec` before they expire.
 *
 * @example
 * const sessions = identity.createSessionAuthenticator();
 * const headers = sessions.sign(peer, { method: 'POST', url, body, headers: {} }); // undefined: handshake first
 */
export class SessionInitiator implements SessionAuthenticator {
  readonly callerId: string;
  readonly #renewBeforeMs: number;
  readonly #maxPeers: number;
  readonly #coverAuthority: boolean;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, HeldSession>();
  readonly #urls = new UrlPartsCache();

  constructor(callerId: string, options: SessionInitiatorOptions = {}) {
    this.callerId = callerId;
    this.#renewBeforeMs = (options.renewBeforeSec ?? 30) * 1000;
    this.#maxPeers = options.maxPeers ?? 10_000;
    this.#coverAuthority = options.coverAuthority ?? true;
    this.#clock = options.clock ?? systemClock;
    if (!(this.#renewBeforeMs >= 0)) throw new SovError('INVALID_CONFIG', `SessionInitiator renewBeforeSec must be >= 0, got ${options.renewBeforeSec}`);
    if (!Number.isSafeInteger(this.#maxPeers) || this.#maxPeers < 1) throw new SovError('INVALID_CONFIG', `SessionInitiator maxPeers must be a whole number >= 1, got ${options.maxPeers}`);
  }

  /** The session id held with `peer`, if one is fresh enough to use. */
  sessionWith(peer: string): string | undefined {
    return this.#fresh(peer)?.id;
  }

  sign(peer: string, request: SignableRequest): Record<string, string> | undefined {
    const session = this.#fresh(peer);
    if (!session) return undefined;
    const created = Math.floor(this.#clock.now() / 1000);
    const url = this.#urls.parts(request.url);
    const { digest, params, base } = requestBase(request, url, this.#coverAuthority, created, session.id, String(++session.seq), 'hmac-sha256');
    const mac = createHmac('sha256', session.key).update(base).digest('base64');
    return {
      'Content-Digest': digest,
      'Signature-Input': `${SIGNATURE_LABEL}=${params}`,
      Signature: `${SIGNATURE_LABEL}=:${mac}:`,
    };
  }

  offer(peer: string, receiverId: string | undefined): SessionOffer {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    const ephemeral = toBase64Url(rawPublicKey(publicKey));
    return {
      body: Buffer.from(JSON.stringify({ v: 1, ephemeral })),
      complete: (reply) => this.#complete(peer, receiverId, ephemeral, privateKey, reply),
    };
  }

  forget(peer: string, sessionId?: string): void {
    const held = this.#sessions.get(peer);
    if (held && (sessionId === undefined || held.id === sessionId)) this.#sessions.delete(peer);
  }

  #fresh(peer: string): HeldSession | undefined {
    const session = this.#sessions.get(peer);
    if (!session) return undefined;
    if (this.#clock.now() >= session.expiresAt - this.#renewBeforeMs) {
      this.#sessions.delete(peer);
      return undefined;
    }
    return session;
  }

  #complete(peer: string, expected: string | undefined, callerEphemeral: string, privateKey: KeyObject, reply: unknown): void {
    const s = (reply as { session?: Partial<SessionReply> } | null)?.session;
    if (typeof s !== 'object' || s === null) throw refused('it carries no session');
    if (s.v !== 1) throw refused(`unsupported version ${JSON.stringify(s.v)}`);
    if (typeof s.id !== 'string' || !SESSION_ID.test(s.id)) throw refused('the session id is malformed');
    if (s.caller !== this.callerId) throw refused(`it names caller ${JSON.stringify(String(s.caller).slice(0, 80))}, not this agent`);
    if (typeof s.receiver !== 'string' || !isDidKey(s.receiver)) throw refused('the receiver is not a did:key');
    if (expected !== undefined && s.receiver !== expected) throw refused(`it comes from ${s.receiver.slice(0, 80)}, not from the agent called (${expected.slice(0, 80)})`);
    if (!Number.isSafeInteger(s.expires) || (s.expires as number) * 1000 <= this.#clock.now()) throw refused('its expiry is not in the future');
    const raw = fromBase64Url(s.ephemeral, 32);
    const signature = fromBase64Url(s.signature, 64);
    if (!raw || !signature) throw refused('the ephemeral key or the signature is malformed');
    const transcript = sessionTranscript({
      callerId: this.callerId,
      receiverId: s.receiver,
      callerEphemeral,
      receiverEphemeral: s.ephemeral!,
      sessionId: s.id,
      expires: s.expires!,
    });
    if (!verifyDidSignature(s.receiver, transcript, signature)) throw refused(`it is not signed by ${s.receiver.slice(0, 80)}`);
    let key: Buffer;
    try {
      key = sessionKey(privateKey, x25519PublicKeyFromRaw(raw), transcript);
    } catch (cause) {
      throw new SovError('SIGNATURE_INVALID', 'Session handshake answer refused: its ephemeral key gives no shared secret', { cause });
    }
    if (!this.#sessions.has(peer) && this.#sessions.size >= this.#maxPeers) this.#sessions.delete(this.#sessions.keys().next().value!);
    this.#sessions.delete(peer);
    this.#sessions.set(peer, { id: s.id, receiverId: s.receiver, key, expiresAt: s.expires! * 1000, seq: 0 });
  }
}
