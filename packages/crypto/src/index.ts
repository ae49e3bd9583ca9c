export { Identity } from './identity';
export { RequestSigner } from './requestSigner';
export { RequestVerifier } from './requestVerifier';
export { NonceCache } from './nonceCache';
export { SessionInitiator } from './sessionInitiator';
export { CRYPTO_ERROR_CODES } from './errors/cryptoErrorCodes';
export { SessionTable } from './sessionTable';
export { didKeyFromPublicKey, publicKeyFromDidKey, isDidKey, verifyDidSignature } from './didKey';
export { verifyX25519Binding } from './x25519Binding';
export { signReceipt, verifyReceipt } from './callReceipts';
export {
  federatedAnswerDigest,
  federatedRequestDigest,
  signAnswerHop,
  signFederatedRequest,
  signPeerList,
  signRequestHop,
  verifyAnswerHops,
  verifyFederatedRequest,
  verifyPeerList,
  verifyRequestHops,
  verifyRouteReceipt,
} from './routeSignatures';
export { Hpke, HpkeContext, HPKE_AEAD } from './hpke';
export { SecureMessenger } from './secureMessenger';
export { registryKeyResolver } from './registryKeyResolver';
export { staticKeyResolver } from './staticKeyResolver';
export { secureMessaging } from './secureMessaging';

export type { CryptoErrorCode } from './errors/cryptoErrorCodes';
export type { IdentityOptions, IdentityFileOptions, IdentityRegistrationMetadata } from './identity';
export type { KeystoreOptions } from './keystore';
export type { RequestSignerOptions } from './requestSigner';
export type { RequestVerifierOptions } from './requestVerifier';
export type { NonceCacheOptions, NonceVerdict } from './nonceCache';
export type { SessionInitiatorOptions } from './sessionInitiator';
export type { OpenSession, SessionTableOptions } from './sessionTable';
export type { X25519Binding } from './x25519Binding';
export type {
  FederatedAnswer,
  FederatedOperation,
  FederatedOutcome,
  FederatedRequest,
  PeerListEntry,
  RouteHop,
  RouteReceipt,
  RouteVerdict,
  SignBytes,
  SignedPeerList,
  UnsignedFederatedRequest,
  UnsignedPeerList,
} from './routeSignatures';
export type { HpkeAeadId, HpkeOptions } from './hpke';
export type { OpenedMessage, PeerKeyResolver, PeerKeys, SealedEnvelope, SecureMessengerOptions } from './secureMessenger';
export type { StaticPeer } from './staticKeyResolver';
export type { SecureDelivery, SecureMessageListener, SecureMessagingApi, SecureMessagingOptions } from './secureMessaging';
