import { sign, type KeyObject } from 'node:crypto';
import { SovError } from '@sov/core';
import { verifyDidSignature } from './didKey';
import { fromBase64Url, toBase64Url } from './internal/base64url';
import { x25519PublicKeyFromRaw } from './internal/rawKeys';

/**
 * An agent's X25519 public key as published in its registry record
 * (`metadata.x25519`), signed by the agent's identity key so that nobody can
 * swap it for their own.
 */
export interface X25519Binding {
  /** The 32-byte X25519 public key, base64url. */
  publicKey: string;
  /** Ed25519 signature by the agent id's key over the binding message, base64url. */
  signature: string;
}

function bindingMessage(agentId: string, publicKey: string): Buffer {
  return Buffer.from(`sov-x25519-binding/v1\n${agentId}\n${publicKey}`);
}

/** @internal Signs the binding of an X25519 public key (raw bytes) to an agent id. */
export function createX25519Binding(agentId: string, signingKey: KeyObject, x25519PublicKey: Uint8Array): X25519Binding {
  const publicKey = toBase64Url(x25519PublicKey);
  return { publicKey, signature: toBase64Url(sign(null, bindingMessage(agentId, publicKey), signingKey)) };
}

/**
 * Checks a published X25519 binding against the did:key it claims to belong
 * to and returns the X25519 public key, parsed. Throws SIGNATURE_INVALID when
 * the binding is malformed or not signed by that id's key.
 *
 * @example
 * const x25519 = verifyX25519Binding(record.id, record.metadata.x25519);
 */
export function verifyX25519Binding(agentId: string, binding: unknown): KeyObject {
  const b = binding as Partial<X25519Binding> | null | undefined;
  const raw = fromBase64Url(b?.publicKey, 32);
  const signature = fromBase64Url(b?.signature, 64);
  if (!b || !raw || !signature) throw new SovError('SIGNATURE_INVALID', `The X25519 key published for ${agentId} is malformed`);
  if (!verifyDidSignature(agentId, bindingMessage(agentId, b.publicKey!), signature)) {
    throw new SovError('SIGNATURE_INVALID', `The X25519 key published for ${agentId} is not signed by that agent's key`);
  }
  return x25519PublicKeyFromRaw(raw);
}
