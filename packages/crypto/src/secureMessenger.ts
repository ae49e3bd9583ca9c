import { sign, type KeyObject } from 'node:crypto';
import { SovError, systemClock, type Clock, type RegistryClient } from '@sov/core';
import { HPKE_AEAD, Hpke, type HpkeAeadId, type HpkeContext } from './hpke';
import type { Identity } from './identity';
import { NonceCache } from './nonceCache';
import { isDidKey, verifyDidSignature } from './didKey';
import { fromBase64Url, toBase64Url } from './internal/base64url';
import { identityKeysOf } from './internal/identityKeys';
import { LruCache } from './internal/lruCache';
import { randomToken } from './internal/randomToken';
import { registryKeyResolver } from './registryKeyResolver';

/** What a resolver knows of a peer: its X25519 key (checked against its id) and where to reach it. */
export interface PeerKeys {
  id: string;
  x25519PublicKey: KeyObject;
  /** The peer's endpoint URL, when known (from its registry record). */
  endpoint?: string;
}

/** Finds a peer's X25519 key. Throws (NOT_FOUND) for a peer it does not know. */
export interface PeerKeyResolver {
  resolve(agentId: string): Promise<PeerKeys>;
}

/**
 * A sealed message on the wire (version 1): JSON, binary fields base64url.
 * `enc`, `sessionAt` and `sig` describe the HPKE context the message was
 * sealed in (signed once by the sender); `seq` is the message's number in it.
 */
export interface SealedEnvelope {
  v: 1;
  /** `X25519-SHA256-CHACHA20POLY1305`, `X25519-SHA256-AES256GCM` or `X25519-SHA256-AES128GCM`. */
  suite: string;
  /** A random id; the receiver refuses a second envelope with the same id from the same sender. */
  id: string;
  from: string;
  to: string;
  /** When the message was sealed, ms since the epoch. */
  sentAt: number;
  /** The HPKE encapsulated key (the sender's ephemeral X25519 public key). */
  enc: string;
  /** When the sender set up the HPKE context, ms since the epoch. */
  sessionAt: number;
  /** The sender's Ed25519 signature over suite, from, to, enc and sessionAt. */
  sig: string;
  /** The message's sequence number in its HPKE context. */
  seq: number;
  /** The AEAD ciphertext and tag of the JSON message. */
  ct: string;
}

/** A message once opened and checked. */
export interface OpenedMessage<T = unknown> {
  /** The envelope id. */
  id: string;
  /** The verified sender id. */
  from: string;
  to: string;
  message: T;
  /** When the sender sealed it, ms since the epoch. */
  sentAt: number;
}

/** Options of SecureMessenger. */
export interface SecureMessengerOptions {
  /** This agent's identity: seals as it, opens what is sealed to it. */
  identity: Identity;
  /** Finds peers' X25519 keys. @default registryKeyResolver(registry) when a registry is given */
  resolver?: PeerKeyResolver;
  /** The registry to resolve peers in when no resolver is given. */
  registry?: RegistryClient;
  /** The cache of resolved peer keys. @default { maxEntries: 1024, ttlMs: 300000 } */
  peerCache?: { maxEntries?: number; ttlMs?: number };
  /** How long after `sentAt` an envelope is accepted, in seconds. @default 300 */
  maxAgeSec?: number;
  /** How far in the future `sentAt` may be, in seconds. @default 5 */
  maxSkewSec?: number;
  /** Most envelope ids remembered for replay detection (bounded like NonceCache). @default 100000 */
  maxSeen?: number;
  /**
   * Reuse one signed HPKE context per recipient for up to this many seconds
   * (a conversation pays for key agreement and signature once); 0 seals
   * every message with a fresh ephemeral key and a fresh signature. The
   * receiver refuses contexts older than its own setting. @default 600
   */
  sessionTtlSec?: number;
  /** Messages sealed in one HPKE context before a new one is set up. @default 100000 */
  maxMessagesPerSession?: number;
  /** Refuse envelopes from senders the resolver does not know (UNKNOWN_SENDER). @default true */
  requireKnownSender?: boolean;
  /** The AEAD for sealing (any of the three is accepted on opening). @default HPKE_AEAD.CHACHA20_POLY1305 */
  aead?: HpkeAeadId;
  /** @default the system clock */
  clock?: Clock;
}

const SUITES: Record<string, HpkeAeadId> = {
  'X25519-SHA256-CHACHA20POLY1305': HPKE_AEAD.CHACHA20_POLY1305,
  'X25519-SHA256-AES256GCM': HPKE_AEAD.AES_256_GCM,
  'X25519-SHA256-AES128GCM': HPKE_AEAD.AES_128_GCM,
};
const SUITE_OF: Record<HpkeAeadId, string> = Object.fromEntries(Object.entries(SUITES).map(([name, id]) => [id, name])) as Record<HpkeAeadId, string>;
const ID = /^[A-Za-z0-9_-]{16,64}$/;

interface SenderSession {
  recipientKey: KeyObject;
  context: HpkeContext;
  enc: string;
  sessionAt: number;
  sig: string;
  suite: string;
}

function sessionMessage(suite: string, from: string, to: string, enc: string, sessionAt: number): Buffer {
  return Buffer.from(`sov-sealed-session/v1\n${suite}\n${from}\n${to}\n${enc}\n${sessionAt}`);
}

function hpkeInfo(suite: string, from: string, to: string): Buffer {
  return Buffer.from(`sov-sealed/v1\n${suite}\n${from}\n${to}`);
}

/** Associated data: every envelope field but the ciphertext, so that none can change unnoticed. */
function associatedData(e: Omit<SealedEnvelope, 'ct' | 'v'>): Buffer {
  return Buffer.from(`sov-sealed-message/v1\n${e.suite}\n${e.id}\n${e.from}\n${e.to}\n${e.sentAt}\n${e.seq}\n${e.enc}\n${e.sessionAt}\n${e.sig}`);
}

function malformed(what: string): SovError {
  return new SovError('DECRYPTION_FAILED', `Malformed sealed envelope: ${what}`);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * End-to-end sealed messages between agents (the guide's SecureAgent), on
 * HPKE (RFC 9180) base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * ChaCha20-Poly1305 (or AES-GCM). The sender signs each HPKE context with
 * its Ed25519 identity key; sender id, recipient id, timestamp, envelope id
 * and sequence number are bound into the associated data. Opening refuses a
 * changed bit anywhere (DECRYPTION_FAILED / SIGNATURE_INVALID), another
 * recipient (WRONG_RECIPIENT), a replay (REPLAY_DETECTED), an old envelope
 * (ENVELOPE_EXPIRED) and a sender the resolver does not know (UNKNOWN_SENDER).
 * Peer keys are cached (LRU with expiry), and so are HPKE contexts, so a
 * conversation pays for key agreement and signatures once per session.
 *
 * @example
 * const messenger = new SecureMessenger({ identity, registry });
 * const envelope = await messenger.seal(peerId, { text: 'hello' });
 * // on the peer:
 * const { from, message } = await peerMessenger.open(envelope);
 */
export class SecureMessenger {
  readonly #identity: Identity;
  readonly #signingKey: KeyObject;
  readonly #agreementKey: KeyObject;
  readonly #resolver: PeerKeyResolver | undefined;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #maxSkewMs: number;
  readonly #sessionTtlMs: number;
  readonly #maxMessages: number;
  readonly #requireKnownSender: boolean;
  readonly #suite: string;
  readonly #hpke = new Map<HpkeAeadId, Hpke>();
  readonly #peers: LruCache<string, PeerKeys>;
  readonly #resolving = new Map<string, Promise<PeerKeys>>();
  readonly #sending: LruCache<string, SenderSession>;
  readonly #receiving: LruCache<string, HpkeContext>;
  readonly #seen: NonceCache;

  constructor(options: SecureMessengerOptions) {
    const keys = identityKeysOf(options.identity);
    if (!keys) throw new TypeError('SecureMessenger needs an @sov/crypto Identity');
    this.#identity = options.identity;
    this.#signingKey = keys.signingKey;
    this.#agreementKey = keys.agreementKey;
    this.#resolver = options.resolver ?? (options.registry ? registryKeyResolver(options.registry) : undefined);
    this.#clock = options.clock ?? systemClock;
    this.#maxAgeMs = (options.maxAgeSec ?? 300) * 1000;
    this.#maxSkewMs = (options.maxSkewSec ?? 5) * 1000;
    this.#sessionTtlMs = (options.sessionTtlSec ?? 600) * 1000;
    this.#maxMessages = options.maxMessagesPerSession ?? 100_000;
    this.#requireKnownSender = options.requireKnownSender ?? true;
    if (!(this.#maxAgeMs > 0) || !(this.#maxSkewMs >= 0) || !(this.#sessionTtlMs >= 0) || !(this.#maxMessages >= 1)) {
      throw new RangeError('SecureMessenger: maxAgeSec must be positive; maxSkewSec and sessionTtlSec zero or more; maxMessagesPerSession at least 1');
    }
    const aead = options.aead ?? HPKE_AEAD.CHACHA20_POLY1305;
    const suite = SUITE_OF[aead];
    if (!suite) throw new RangeError(`Unsupported AEAD id ${String(options.aead)}`);
    this.#suite = suite;
    const cacheSize = options.peerCache?.maxEntries ?? 1024;
    this.#peers = new LruCache(cacheSize, options.peerCache?.ttlMs ?? 300_000, this.#clock);
    this.#sending = new LruCache(cacheSize, Math.max(1, this.#sessionTtlMs), this.#clock);
    this.#receiving = new LruCache(cacheSize, Math.max(1, this.#sessionTtlMs), this.#clock);
    this.#seen = new NonceCache({ maxEntries: options.maxSeen ?? 100_000, clock: this.#clock });
  }

  /** This agent's id. */
  get id(): string {
    return this.#identity.id;
  }

  /**
   * A peer's keys, from the cache or the resolver (one lookup at a time per
   * peer). Throws NOT_FOUND when there is no resolver or it does not know the peer.
   */
  async lookupPeer(agentId: string): Promise<PeerKeys> {
    const cached = this.#peers.get(agentId);
    if (cached) return cached;
    let pending = this.#resolving.get(agentId);
    if (!pending) {
      const resolver = this.#resolver;
      if (!resolver) throw new SovError('NOT_FOUND', `No key resolver (registry) to look up ${agentId.slice(0, 80)}`);
      pending = resolver.resolve(agentId).then(
        (peer) => {
          this.#resolving.delete(agentId);
          this.#peers.set(agentId, peer);
          return peer;
        },
        (e: unknown) => {
          this.#resolving.delete(agentId);
          throw e;
        },
      );
      this.#resolving.set(agentId, pending);
    }
    return pending;
  }

  /** Drops a peer's cached key and sessions (after it rotated its key, for example). */
  forgetPeer(agentId: string): void {
    this.#peers.delete(agentId);
    this.#sending.delete(agentId);
  }

  /**
   * Seals a JSON message for a recipient.
   *
   * @example
   * const envelope = await messenger.seal(peerId, { task: 'analyse', data });
   */
  async seal(recipientId: string, message: unknown): Promise<SealedEnvelope> {
    const peer = await this.lookupPeer(recipientId);
    const plaintext = JSON.stringify(message);
    if (plaintext === undefined) throw new SovError('NOT_SERIALIZABLE', 'A sealed message must be JSON-serialisable');
    const now = this.#clock.now();
    const session = this.#senderSession(recipientId, peer.x25519PublicKey, now);
    const header = {
      suite: session.suite,
      id: randomToken(16),
      from: this.#identity.id,
      to: recipientId,
      sentAt: now,
      seq: session.context.sequence,
      enc: session.enc,
      sessionAt: session.sessionAt,
      sig: session.sig,
    };
    const ct = session.context.seal(Buffer.from(plaintext), associatedData(header));
    if (this.#sessionTtlMs === 0) this.#sending.delete(recipientId);
    return { v: 1, ...header, ct: toBase64Url(ct) };
  }

  /**
   * Opens an envelope sealed to this agent and checks it: integrity,
   * recipient, age, sender signature, known sender, replay.
   *
   * @example
   * const { from, message } = await messenger.open(envelope);
   */
  async open<T = unknown>(envelope: unknown): Promise<OpenedMessage<T>> {
    const e = this.#parse(envelope);
    if (e.to !== this.#identity.id) throw new SovError('WRONG_RECIPIENT', `Envelope ${e.id} is sealed to ${e.to.slice(0, 80)}, not to ${this.#identity.id}`);
    if (!isDidKey(e.from)) throw new SovError('UNKNOWN_SENDER', `Envelope sender ${e.from.slice(0, 80)} is not an Ed25519 did:key`);
    const now = this.#clock.now();
    if (e.sentAt > now + this.#maxSkewMs) throw new SovError('ENVELOPE_EXPIRED', `Envelope ${e.id} was sent ${e.sentAt - now} ms in the future`);
    if (now - e.sentAt >= this.#maxAgeMs) {
      throw new SovError('ENVELOPE_EXPIRED', `Envelope ${e.id} was sent ${Math.round((now - e.sentAt) / 1000)} s ago; the limit is ${this.#maxAgeMs / 1000} s`);
    }
    if (e.sessionAt > e.sentAt || e.sentAt - e.sessionAt > this.#sessionTtlMs + this.#maxSkewMs) {
      throw new SovError('ENVELOPE_EXPIRED', `Envelope ${e.id} was sealed in a session from ${new Date(e.sessionAt).toISOString()}, outside the session lifetime`);
    }
    const replayKey = `${e.from} ${e.id}`;
    if (this.#seen.has(replayKey)) throw new SovError('REPLAY_DETECTED', `Envelope ${e.id} from ${e.from} was already received`);

    const context = this.#receiverContext(e);
    if (this.#requireKnownSender) {
      try {
        await this.lookupPeer(e.from);
      } catch (cause) {
        throw new SovError('UNKNOWN_SENDER', `Sender ${e.from} is not known to this agent's registry`, { cause });
      }
    }
    const plaintext = context.open(fromBase64Url(e.ct)!, associatedData(e), e.seq);
    let message: T;
    try {
      message = JSON.parse(plaintext.toString('utf8')) as T;
    } catch (cause) {
      throw new SovError('DECRYPTION_FAILED', `Envelope ${e.id} decrypted to something that is not JSON`, { cause });
    }
    // Recorded only once everything checked out, after the last await: two copies racing cannot both pass.
    const verdict = this.#seen.add(replayKey, e.sentAt + this.#maxAgeMs);
    if (verdict === 'replay') throw new SovError('REPLAY_DETECTED', `Envelope ${e.id} from ${e.from} was already received`);
    if (verdict === 'evicted') throw new SovError('ENVELOPE_EXPIRED', `Envelope ${e.id} is too old to be checked for replay while replay memory is full`);
    return { id: e.id, from: e.from, to: e.to, message, sentAt: e.sentAt };
  }

  #hpkeFor(aead: HpkeAeadId): Hpke {
    let hpke = this.#hpke.get(aead);
    if (!hpke) {
      hpke = new Hpke({ aead });
      this.#hpke.set(aead, hpke);
    }
    return hpke;
  }

  #senderSession(recipientId: string, recipientKey: KeyObject, now: number): SenderSession {
    const current = this.#sending.get(recipientId);
    if (
      current &&
      current.recipientKey === recipientKey &&
      now - current.sessionAt < this.#sessionTtlMs &&
      current.context.sequence < this.#maxMessages
    ) {
      return current;
    }
    const suite = this.#suite;
    const from = this.#identity.id;
    const { enc: encBytes, context } = this.#hpkeFor(SUITES[suite]!).setupBaseSender(recipientKey, hpkeInfo(suite, from, recipientId));
    const enc = toBase64Url(encBytes);
    const sig = toBase64Url(sign(null, sessionMessage(suite, from, recipientId, enc, now), this.#signingKey));
    const session: SenderSession = { recipientKey, context, enc, sessionAt: now, sig, suite };
    if (this.#sessionTtlMs > 0) this.#sending.set(recipientId, session);
    return session;
  }

  #receiverContext(e: SealedEnvelope): HpkeContext {
    const cacheKey = `${e.suite}\n${e.from}\n${e.enc}\n${e.sessionAt}\n${e.sig}`;
    const cached = this.#receiving.get(cacheKey);
    if (cached) return cached;
    if (!verifyDidSignature(e.from, sessionMessage(e.suite, e.from, e.to, e.enc, e.sessionAt), fromBase64Url(e.sig)!)) {
      throw new SovError('SIGNATURE_INVALID', `Envelope ${e.id}: the signature does not verify for sender ${e.from}`);
    }
    const context = this.#hpkeFor(SUITES[e.suite]!).setupBaseReceiver(fromBase64Url(e.enc)!, this.#agreementKey, hpkeInfo(e.suite, e.from, e.to));
    const ttl = e.sessionAt + this.#sessionTtlMs + this.#maxSkewMs - this.#clock.now();
    if (this.#sessionTtlMs > 0 && ttl > 0) this.#receiving.set(cacheKey, context, ttl);
    return context;
  }

  #parse(envelope: unknown): SealedEnvelope {
    if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) throw malformed('not a JSON object');
    const e = envelope as Record<string, unknown>;
    if (e['v'] !== 1) throw malformed(`version ${JSON.stringify(e['v'])} is not supported (expected 1)`);
    if (typeof e['suite'] !== 'string' || !Object.hasOwn(SUITES, e['suite'])) throw malformed(`unsupported suite ${JSON.stringify(e['suite'])}`);
    if (typeof e['id'] !== 'string' || !ID.test(e['id'])) throw malformed('id');
    if (typeof e['from'] !== 'string' || e['from'].length > 128) throw malformed('from');
    if (typeof e['to'] !== 'string' || e['to'].length > 128) throw malformed('to');
    if (!isTime(e['sentAt'])) throw malformed('sentAt');
    if (!isTime(e['sessionAt'])) throw malformed('sessionAt');
    if (!isTime(e['seq'])) throw malformed('seq');
    if (!fromBase64Url(e['enc'], 32)) throw malformed('enc');
    if (!fromBase64Url(e['sig'], 64)) throw malformed('sig');
    const ct = fromBase64Url(e['ct']);
    if (!ct || ct.length < 16) throw malformed('ct');
    return e as unknown as SealedEnvelope;
  }
}
