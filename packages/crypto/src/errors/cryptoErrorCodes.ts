import { defineErrorCodes } from '@sov/core';

declare module '@sov/core' {
  interface SovErrorCodeMap extends CryptoErrorCodeTable {}
}

/**
 * The error codes `@sov/crypto` owns, with the HTTP status each is sent with.
 * Registered with `@sov/core` when the package loads; unique across packages.
 * Signature, replay, receiver and session refusals are core's codes (every
 * verifier answers them); these are the sealed messages', the keystore's and
 * the federation route protocol's (its signed paths and receipts are this
 * package's, checked by `@sov/federation` and `@sov/registry` alike).
 */
export const CRYPTO_ERROR_CODES = defineErrorCodes('@sov/crypto', {
  // sealed messages
  /** A sealed envelope that does not open: malformed, altered, or sealed under another key. */
  DECRYPTION_FAILED: 400,
  /** A sealed envelope older than its lifetime, from the future, or too old to check for replay. */
  ENVELOPE_EXPIRED: 400,
  /** A sealed envelope from a sender the resolver does not know. */
  UNKNOWN_SENDER: 404,
  /** A sealed envelope addressed to another agent. */
  WRONG_RECIPIENT: 400,
  // keystore
  /** A keystore file that is damaged or not a keystore. */
  KEYSTORE_INVALID: 500,
  /** A keystore passphrase that is wrong, missing, empty or given for a file that is not encrypted. */
  KEYSTORE_PASSPHRASE: 500,
  // federation routes
  /** No chain of peered registries leads to the target registry within the hop limit. */
  NO_FEDERATION_PATH: 404,
  /** A routed request whose path names one registry twice. */
  FEDERATION_LOOP: 400,
  /** A routed request whose path has more hops than the registry allows. */
  FEDERATION_HOP_LIMIT: 400,
  /** A routed request reached a registry that is not its next hop, or came from one that is not its previous hop. */
  FEDERATION_WRONG_HOP: 403,
  /** A routed request or its answer does not carry the signatures it should: something on its path altered it. */
  ROUTE_TAMPERED: 403,
} as const);

/** An error code of `@sov/crypto`. */
export type CryptoErrorCode = keyof typeof CRYPTO_ERROR_CODES;
type CryptoErrorCodeTable = typeof CRYPTO_ERROR_CODES;
