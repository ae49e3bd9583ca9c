import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type CipherGCMTypes,
  type KeyObject,
} from 'node:crypto';
import { SovError } from '@sov/core';
import { assertKeyType, rawPublicKey, x25519PrivateKeyFromRaw, x25519PublicKeyFromRaw } from './internal/rawKeys';

/** HPKE AEAD identifiers (RFC 9180 §7.3). */
export const HPKE_AEAD = {
  AES_128_GCM: 0x0001,
  AES_256_GCM: 0x0002,
  CHACHA20_POLY1305: 0x0003,
} as const;

/** One of the AEAD identifiers in HPKE_AEAD. */
export type HpkeAeadId = (typeof HPKE_AEAD)[keyof typeof HPKE_AEAD];

interface AeadSpec {
  // Typed as GCM for node's overloads; chacha20-poly1305 has the same AEAD interface.
  cipher: CipherGCMTypes;
  nk: number;
  name: string;
}

const AEADS: Record<HpkeAeadId, AeadSpec> = {
  [HPKE_AEAD.AES_128_GCM]: { cipher: 'aes-128-gcm', nk: 16, name: 'AES-128-GCM' },
  [HPKE_AEAD.AES_256_GCM]: { cipher: 'aes-256-gcm', nk: 32, name: 'AES-256-GCM' },
  [HPKE_AEAD.CHACHA20_POLY1305]: { cipher: 'chacha20-poly1305' as CipherGCMTypes, nk: 32, name: 'ChaCha20Poly1305' },
};

const KEM_ID = 0x0020; // DHKEM(X25519, HKDF-SHA256)
const KDF_ID = 0x0001; // HKDF-SHA256
const NH = 32;
const NN = 12;
const NT = 16;
const MODE_BASE = 0x00;
const EMPTY = Buffer.alloc(0);
const HPKE_V1 = Buffer.from('HPKE-v1');
const KEM_SUITE_ID = Buffer.concat([Buffer.from('KEM'), i2osp(KEM_ID, 2)]);

function i2osp(n: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let v = n;
  for (let i = length - 1; i >= 0 && v > 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function label(text: string): Buffer {
  return Buffer.from(text, 'ascii');
}

const L = {
  eaePrk: label('eae_prk'),
  sharedSecret: label('shared_secret'),
  pskIdHash: label('psk_id_hash'),
  infoHash: label('info_hash'),
  secret: label('secret'),
  key: label('key'),
  baseNonce: label('base_nonce'),
  exp: label('exp'),
  sec: label('sec'),
  dkpPrk: label('dkp_prk'),
  sk: label('sk'),
};

/** LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
function labeledExtract(suiteId: Buffer, salt: Uint8Array, lbl: Buffer, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt).update(HPKE_V1).update(suiteId).update(lbl).update(ikm).digest();
}

/** LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L). */
function labeledExpand(suiteId: Buffer, prk: Uint8Array, lbl: Buffer, info: Uint8Array, length: number): Buffer {
  const labeledInfo = Buffer.concat([i2osp(length, 2), HPKE_V1, suiteId, lbl, info]);
  const out = Buffer.alloc(length);
  let previous = EMPTY;
  for (let i = 1, offset = 0; offset < length; i++) {
    previous = createHmac('sha256', prk).update(previous).update(labeledInfo).update(Buffer.of(i)).digest();
    offset += previous.copy(out, offset);
  }
  return out;
}

function dh(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw new SovError('DECRYPTION_FAILED', 'X25519 key agreement failed (invalid public key)', { cause });
  }
  // RFC 9180 §7.1.4: an all-zero shared secret means a low-order point; abort.
  if (shared.every((b) => b === 0)) throw new SovError('DECRYPTION_FAILED', 'X25519 key agreement produced the all-zero value');
  return shared;
}

// The raw public half of a recipient's private key, computed once per key.
const recipientPublicBytes = new WeakMap<KeyObject, Buffer>();

/**
 * An HPKE encryption context (RFC 9180 §5.2): one key, a base nonce and a
 * sequence number, for one or many messages in one direction.
 */
export class HpkeContext {
  readonly #aead: AeadSpec;
  readonly #key: Buffer;
  readonly #baseNonce: Buffer;
  readonly #exporterSecret: Buffer;
  readonly #suiteId: Buffer;
  #seq = 0;

  /** @internal built by Hpke.setupBaseSender / setupBaseReceiver */
  constructor(aead: AeadSpec, suiteId: Buffer, key: Buffer, baseNonce: Buffer, exporterSecret: Buffer) {
    this.#aead = aead;
    this.#suiteId = suiteId;
    this.#key = key;
    this.#baseNonce = baseNonce;
    this.#exporterSecret = exporterSecret;
  }

  /** The sequence number the next seal (or open without an explicit one) uses. */
  get sequence(): number {
    return this.#seq;
  }

  /** Encrypts with the current sequence number, then increments it. Returns ciphertext || tag. */
  seal(plaintext: Uint8Array, aad: Uint8Array = EMPTY): Buffer {
    if (this.#seq >= Number.MAX_SAFE_INTEGER) throw new SovError('INTERNAL', 'HPKE sequence number overflow: set up a new context');
    const cipher = createCipheriv(this.#aead.cipher, this.#key, this.#nonce(this.#seq), { authTagLength: NT });
    cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    this.#seq++;
    return Buffer.concat([head, tail, cipher.getAuthTag()]);
  }

  /**
   * Decrypts ciphertext || tag. Without `seq`, uses and increments the
   * context's own sequence number (RFC 9180); with it, opens that message of
   * the sequence (messages that arrive out of order). Throws DECRYPTION_FAILED.
   */
  open(ciphertext: Uint8Array, aad: Uint8Array = EMPTY, seq?: number): Buffer {
    const n = seq ?? this.#seq;
    if (!Number.isSafeInteger(n) || n < 0) throw new SovError('DECRYPTION_FAILED', `Invalid HPKE sequence number ${n}`);
    if (ciphertext.length < NT) throw new SovError('DECRYPTION_FAILED', `Ciphertext of ${ciphertext.length} bytes is shorter than the ${NT}-byte tag`);
    const body = ciphertext.subarray(0, ciphertext.length - NT);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv(this.#aead.cipher, this.#key, this.#nonce(n), { authTagLength: NT });
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - NT));
      decipher.setAAD(aad, { plaintextLength: body.length });
      plaintext = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (cause) {
      throw new SovError('DECRYPTION_FAILED', `${this.#aead.name} authentication failed: the ciphertext, its associated data or the key is wrong`, { cause });
    }
    if (seq === undefined) this.#seq++;
    return plaintext;
  }

  /** The secret export interface (RFC 9180 §5.3). */
  export(exporterContext: Uint8Array, length: number): Buffer {
    return labeledExpand(this.#suiteId, this.#exporterSecret, L.sec, exporterContext, length);
  }

  #nonce(seq: number): Buffer {
    const nonce = Buffer.from(this.#baseNonce);
    // I2OSP(seq, Nn) XOR base_nonce; seq < 2^53 fits the last 8 bytes.
    const high = Math.floor(seq / 0x100000000);
    nonce.writeUInt32BE((nonce.readUInt32BE(NN - 8) ^ high) >>> 0, NN - 8);
    nonce.writeUInt32BE((nonce.readUInt32BE(NN - 4) ^ (seq >>> 0)) >>> 0, NN - 4);
    return nonce;
  }
}

/** Options of Hpke. */
export interface HpkeOptions {
  /** The AEAD. @default HPKE_AEAD.CHACHA20_POLY1305 */
  aead?: HpkeAeadId;
}

/**
 * HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256,
 * on node:crypto. Keys are KeyObjects, parsed once by the caller.
 *
 * @example
 * const hpke = new Hpke();
 * const { enc, ciphertext } = hpke.seal(recipientPublicKey, plaintext, { info, aad });
 * const plaintext2 = hpke.open(enc, recipientPrivateKey, ciphertext, { info, aad });
 */
export class Hpke {
  /** The AEAD identifier in use. */
  readonly aead: HpkeAeadId;
  /** A readable suite name, e.g. `DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/ChaCha20Poly1305`. */
  readonly name: string;
  readonly #spec: AeadSpec;
  readonly #suiteId: Buffer;
  readonly #contexts = new Map<string, Buffer>();

  constructor(options: HpkeOptions = {}) {
    this.aead = options.aead ?? HPKE_AEAD.CHACHA20_POLY1305;
    const spec = AEADS[this.aead];
    if (!spec) throw new RangeError(`Unsupported HPKE AEAD id ${String(options.aead)}`);
    this.#spec = spec;
    this.#suiteId = Buffer.concat([Buffer.from('HPKE'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(this.aead, 2)]);
    this.name = `DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/${spec.name}`;
  }

  /**
   * SetupBaseS: encapsulates to the recipient's X25519 public key. `enc` is
   * the 32-byte ephemeral public key to send along. `ephemeralPrivateKey` is
   * for known-answer tests only: never reuse an ephemeral key.
   */
  setupBaseSender(
    recipientPublicKey: KeyObject,
    info: Uint8Array = EMPTY,
    options: { ephemeralPrivateKey?: KeyObject } = {},
  ): { enc: Buffer; context: HpkeContext } {
    assertKeyType(recipientPublicKey, 'x25519', 'public', 'HPKE recipient key');
    let privateKey = options.ephemeralPrivateKey;
    let publicKey: KeyObject;
    if (privateKey) {
      assertKeyType(privateKey, 'x25519', 'private', 'HPKE ephemeral key');
      publicKey = createPublicKey(privateKey);
    } else {
      ({ privateKey, publicKey } = generateKeyPairSync('x25519'));
    }
    const enc = rawPublicKey(publicKey);
    const shared = this.#extractAndExpand(dh(privateKey, recipientPublicKey), enc, rawPublicKey(recipientPublicKey));
    return { enc, context: this.#keySchedule(shared, info) };
  }

  /** SetupBaseR: decapsulates `enc` with the recipient's X25519 private key. Throws DECRYPTION_FAILED for a bad enc. */
  setupBaseReceiver(enc: Uint8Array, recipientPrivateKey: KeyObject, info: Uint8Array = EMPTY): HpkeContext {
    assertKeyType(recipientPrivateKey, 'x25519', 'private', 'HPKE recipient key');
    if (enc.length !== 32) throw new SovError('DECRYPTION_FAILED', `HPKE enc must be 32 bytes, got ${enc.length}`);
    let pkRm = recipientPublicBytes.get(recipientPrivateKey);
    if (!pkRm) {
      pkRm = rawPublicKey(recipientPrivateKey);
      recipientPublicBytes.set(recipientPrivateKey, pkRm);
    }
    let ephemeral: KeyObject;
    try {
      ephemeral = x25519PublicKeyFromRaw(enc);
    } catch (cause) {
      throw new SovError('DECRYPTION_FAILED', 'HPKE enc is not an X25519 public key', { cause });
    }
    const shared = this.#extractAndExpand(dh(recipientPrivateKey, ephemeral), enc, pkRm);
    return this.#keySchedule(shared, info);
  }

  /** Single-shot seal (RFC 9180 §6.1). */
  seal(recipientPublicKey: KeyObject, plaintext: Uint8Array, options: { info?: Uint8Array; aad?: Uint8Array } = {}): { enc: Buffer; ciphertext: Buffer } {
    const { enc, context } = this.setupBaseSender(recipientPublicKey, options.info);
    return { enc, ciphertext: context.seal(plaintext, options.aad) };
  }

  /** Single-shot open (RFC 9180 §6.1). Throws DECRYPTION_FAILED. */
  open(enc: Uint8Array, recipientPrivateKey: KeyObject, ciphertext: Uint8Array, options: { info?: Uint8Array; aad?: Uint8Array } = {}): Buffer {
    return this.setupBaseReceiver(enc, recipientPrivateKey, options.info).open(ciphertext, options.aad);
  }

  /** DeriveKeyPair (RFC 9180 §7.1.3) for X25519: a key pair from input keying material. */
  deriveKeyPair(ikm: Uint8Array): { privateKey: KeyObject; publicKey: KeyObject } {
    const prk = labeledExtract(KEM_SUITE_ID, EMPTY, L.dkpPrk, ikm);
    const privateKey = x25519PrivateKeyFromRaw(labeledExpand(KEM_SUITE_ID, prk, L.sk, EMPTY, 32));
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }

  #extractAndExpand(dhValue: Buffer, enc: Uint8Array, pkRm: Uint8Array): Buffer {
    const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, L.eaePrk, dhValue);
    return labeledExpand(KEM_SUITE_ID, eaePrk, L.sharedSecret, Buffer.concat([enc, pkRm]), 32);
  }

  #keySchedule(sharedSecret: Buffer, info: Uint8Array): HpkeContext {
    const context = this.#keyScheduleContext(info);
    const secret = labeledExtract(this.#suiteId, sharedSecret, L.secret, EMPTY);
    const key = labeledExpand(this.#suiteId, secret, L.key, context, this.#spec.nk);
    const baseNonce = labeledExpand(this.#suiteId, secret, L.baseNonce, context, NN);
    const exporterSecret = labeledExpand(this.#suiteId, secret, L.exp, context, NH);
    return new HpkeContext(this.#spec, this.#suiteId, key, baseNonce, exporterSecret);
  }

  // mode || psk_id_hash || info_hash; the same for every message with the same info, so kept.
  #keyScheduleContext(info: Uint8Array): Buffer {
    const cacheKey = Buffer.from(info).toString('latin1');
    let context = this.#contexts.get(cacheKey);
    if (!context) {
      const pskIdHash = labeledExtract(this.#suiteId, EMPTY, L.pskIdHash, EMPTY);
      const infoHash = labeledExtract(this.#suiteId, EMPTY, L.infoHash, info);
      context = Buffer.concat([Buffer.of(MODE_BASE), pskIdHash, infoHash]);
      if (this.#contexts.size >= 64) this.#contexts.clear();
      this.#contexts.set(cacheKey, context);
    }
    return context;
  }
}
