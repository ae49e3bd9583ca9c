import type { KeyObject } from 'node:crypto';

/** The private halves of an identity. */
export interface IdentityKeys {
  /** Ed25519 private key: signs requests, envelopes and the X25519 binding. */
  signingKey: KeyObject;
  /** X25519 private key: opens sealed messages. */
  agreementKey: KeyObject;
}

// Private keys live here, out of reach of anything outside this package
// (no property to read, log or serialise by accident).
const secrets = new WeakMap<object, IdentityKeys>();

export function registerIdentityKeys(identity: object, keys: IdentityKeys): void {
  secrets.set(identity, keys);
}

export function identityKeysOf(identity: object): IdentityKeys | undefined {
  return secrets.get(identity);
}
