import { generateKeyPairSync } from 'node:crypto';
import { SovError, systemClock, type Clock, type VerifiedCaller } from '@sov/core';
import { fromBase64Url, toBase64Url } from './internal/base64url';
import { randomToken } from './internal/randomToken';
import { rawPublicKey, x25519PublicKeyFromRaw } from './internal/rawKeys';
import { ReplayWindow } from './internal/replayWindow';
import { SESSION_PROTOCOL, sessionKey, sessionTranscript } from './internal/sessionTranscript';

/** Options of SessionTable. */
export interface SessionTableOptions {
  /** How long a session lives, in seconds; the caller opens a new one before it ends. @default 600 */
  ttlSec?: number;
  /** Sessions held at once; past it, the one opened longest ago is dropped (its caller opens a new one). @default 10000 */
  maxSessions?: number;
  /** Sessions one caller may hold at once; a new one drops that caller's oldest. @default 4 */
  maxPerCaller?: number;
  /** @default the system clock */
  clock?: Clock;
}

/** One open session, as its receiver holds it. */
export interface OpenSession {
  readonly id: string;
  /** The caller's agent id, bound in at the handshake. */
  readonly callerId: string;
  /** The HMAC-SHA256 key of the caller's requests. */
  readonly key: Buffer;
  /** Epoch ms after which the session is refused. */
  readonly expiresAt: number;
  /** Which request sequence numbers were already used. */
  readonly replay: ReplayWindow;
}

/** What a caller sends to open a session: the protocol and its ephemeral X25519 public key. */
interface SessionOfferBody {
  v: 1;
  ephemeral: string;
}

function offerOf(offer: unknown): { ephemeral: string; raw: Buffer } {
  const o = offer as Partial<SessionOfferBody> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new SovError('INVALID_INPUT', 'A session offer must be a JSON object { v: 1, ephemeral }');
  if (o.v !== 1) throw new SovError('INVALID_INPUT', `Unsupported session protocol version ${JSON.stringify(o.v)}; this receiver speaks v 1 (${SESSION_PROTOCOL})`);
  const raw = fromBase64Url(o.ephemeral, 32);
  if (!raw || typeof o.ephemeral !== 'string') throw new SovError('INVALID_INPUT', 'Session offer ephemeral must be a 32-byte X25519 public key in base64url');
  return { ephemeral: o.ephemeral, raw };
}

/**
 * The receiver's half of session authentication: answers handshakes (an
 * Ed25519-signed offer carrying the caller's ephemeral X25519 key) with its
 * own ephemeral key, a session id and an expiry, all signed by the
 * receiver's identity key, and keeps the derived key of each session for
 * the RequestVerifier. Bounded in sessions overall and per caller; a
 * receiver that restarts holds none (its callers' next requests get
 * SESSION_UNKNOWN and they open new ones).
 *
 * @example
 * const verifier = new RequestVerifier({ sessions: new SessionTable(identity.id, (bytes) => identity.sign(bytes)) });
 */
export class SessionTable {
  readonly receiverId: string;
  readonly #sign: (data: Uint8Array) => Uint8Array;
  readonly #ttlSec: number;
  readonly #maxSessions: number;
  readonly #maxPerCaller: number;
  readonly #clock: Clock;
  /** In the order opened (a Map keeps insertion order): the first is the oldest. */
  readonly #sessions = new Map<string, OpenSession>();
  readonly #byCaller = new Map<string, string[]>();

  constructor(receiverId: string, sign: (data: Uint8Array) => Uint8Array, options: SessionTableOptions = {}) {
    this.receiverId = receiverId;
    this.#sign = sign;
    this.#ttlSec = options.ttlSec ?? 600;
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#maxPerCaller = options.maxPerCaller ?? 4;
    this.#clock = options.clock ?? systemClock;
    for (const [name, value] of [['ttlSec', this.#ttlSec], ['maxSessions', this.#maxSessions], ['maxPerCaller', this.#maxPerCaller]] as const) {
      if (!Number.isSafeInteger(value) || value < 1) throw new SovError('INVALID_CONFIG', `SessionTable ${name} must be a whole number >= 1, got ${value}`);
    }
  }

  /** Sessions held now. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Opens a session for `caller`, whose handshake request the endpoint has
   * verified (Ed25519, per request, for this receiver). Refuses a
   * session-authenticated handshake, and a malformed offer (INVALID_INPUT).
   */
  accept(caller: VerifiedCaller, offer: unknown): Record<string, unknown> {
    if (caller.session !== undefined) throw new SovError('UNAUTHORIZED', 'A session handshake must be signed with the caller identity key, not under a session');
    const { ephemeral, raw } = offerOf(offer);
    let callerKey;
    try {
      callerKey = x25519PublicKeyFromRaw(raw);
    } catch (cause) {
      throw new SovError('INVALID_INPUT', 'Session offer ephemeral is not a usable X25519 public key', { cause });
    }
    const own = generateKeyPairSync('x25519');
    const receiverEphemeral = toBase64Url(rawPublicKey(own.publicKey));
    const sessionId = `s_${randomToken(18)}`;
    const expires = Math.floor(this.#clock.now() / 1000) + this.#ttlSec;
    const transcript = sessionTranscript({ callerId: caller.id, receiverId: this.receiverId, callerEphemeral: ephemeral, receiverEphemeral, sessionId, expires });
    let key: Buffer;
    try {
      key = sessionKey(own.privateKey, callerKey, transcript);
    } catch (cause) {
      throw new SovError('INVALID_INPUT', 'Session offer ephemeral gives no shared secret (a low-order X25519 point)', { cause });
    }
    this.#add({ id: sessionId, callerId: caller.id, key, expiresAt: expires * 1000, replay: new ReplayWindow() });
    return {
      session: {
        v: 1,
        id: sessionId,
        caller: caller.id,
        receiver: this.receiverId,
        ephemeral: receiverEphemeral,
        expires,
        signature: toBase64Url(this.#sign(transcript)),
      },
    };
  }

  /** The session named `id`, if held (expired ones included: the verifier tells the two apart). */
  get(id: string): OpenSession | undefined {
    return this.#sessions.get(id);
  }

  /** Whether `session` has passed its expiry (by this table's clock). */
  expired(session: OpenSession): boolean {
    return this.#clock.now() >= session.expiresAt;
  }

  /** Drops one session (its caller's next request gets SESSION_UNKNOWN). */
  delete(id: string): void {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    const mine = this.#byCaller.get(session.callerId);
    if (!mine) return;
    const rest = mine.filter((s) => s !== id);
    if (rest.length === 0) this.#byCaller.delete(session.callerId);
    else this.#byCaller.set(session.callerId, rest);
  }

  #add(session: OpenSession): void {
    const mine = this.#byCaller.get(session.callerId) ?? [];
    while (mine.length >= this.#maxPerCaller) this.delete(mine.shift()!);
    const now = this.#clock.now();
    // Expired sessions first, then the oldest, make room.
    if (this.#sessions.size >= this.#maxSessions) {
      for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.delete(id);
    }
    while (this.#sessions.size >= this.#maxSessions) this.delete(this.#sessions.keys().next().value!);
    this.#sessions.set(session.id, session);
    const current = this.#byCaller.get(session.callerId) ?? [];
    current.push(session.id);
    this.#byCaller.set(session.callerId, current);
  }
}
