import { verify, type KeyObject } from 'node:crypto';
import { SovError } from '@sov/core';
import { base58Decode, base58Encode } from './internal/base58';
import { ed25519PublicKeyFromRaw, rawPublicKey } from './internal/rawKeys';

/** The multicodec prefix of an Ed25519 public key (varint 0xed). */
const ED25519_PUB = [0xed, 0x01] as const;
const DID_KEY_PREFIX = 'did:key:z';
/** did:key:z + base58btc of 34 bytes is 48 characters after the prefix, give or take one. */
const MAX_DID_LENGTH = 64;
const CACHE_LIMIT = 4096;

// Parsed keys by did: a caller who signs many requests is parsed once.
const parsed = new Map<string, KeyObject>();

/**
 * The did:key of an Ed25519 public key: `did:key:z6Mk...`, multibase
 * base58btc of the multicodec prefix 0xed01 and the 32 raw key bytes. Anyone
 * can check a signature from the id alone.
 *
 * @example
 * const id = didKeyFromPublicKey(publicKey); // 'did:key:z6Mk...'
 */
export function didKeyFromPublicKey(publicKey: KeyObject | Uint8Array): string {
  const raw = publicKey instanceof Uint8Array ? publicKey : rawPublicKey(publicKey);
  if (raw.length !== 32) throw new TypeError(`An Ed25519 public key has 32 bytes, got ${raw.length}`);
  const bytes = new Uint8Array(34);
  bytes.set(ED25519_PUB, 0);
  bytes.set(raw, 2);
  return DID_KEY_PREFIX + base58Encode(bytes);
}

/** Whether a value is a well-formed Ed25519 did:key. */
export function isDidKey(value: unknown): boolean {
  return typeof value === 'string' && decodeDidKey(value) !== undefined;
}

/**
 * The Ed25519 public key named by a did:key, parsed once and cached.
 * Throws INVALID_INPUT when the value is not an Ed25519 did:key.
 */
export function publicKeyFromDidKey(did: string): KeyObject {
  const cached = parsed.get(did);
  if (cached) return cached;
  const raw = decodeDidKey(did);
  if (!raw) {
    throw new SovError('INVALID_INPUT', `Not an Ed25519 did:key: ${JSON.stringify(String(did).slice(0, 80))}`);
  }
  const key = ed25519PublicKeyFromRaw(raw);
  if (parsed.size >= CACHE_LIMIT) {
    const oldest = parsed.keys().next();
    if (!oldest.done) parsed.delete(oldest.value);
  }
  parsed.set(did, key);
  return key;
}

/**
 * Checks an Ed25519 signature against the key a did:key names. False for a
 * bad signature or a value that is not an Ed25519 did:key; never throws.
 *
 * @example
 * if (!verifyDidSignature(receipt.signer, bytes, signature)) throw new Error('forged receipt');
 */
export function verifyDidSignature(did: string, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || !isDidKey(did)) return false;
  try {
    return verify(null, data, publicKeyFromDidKey(did), signature);
  } catch {
    return false;
  }
}

function decodeDidKey(did: string): Uint8Array | undefined {
  if (did.length > MAX_DID_LENGTH || !did.startsWith(DID_KEY_PREFIX)) return undefined;
  const bytes = base58Decode(did.slice(DID_KEY_PREFIX.length));
  if (!bytes || bytes.length !== 34 || bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) return undefined;
  const raw = bytes.subarray(2);
  // Only the canonical spelling names the key (base58 has none other, but be explicit).
  if (DID_KEY_PREFIX + base58Encode(bytes) !== did) return undefined;
  return raw;
}
