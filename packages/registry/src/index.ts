export { RegistryServer } from './registryServer';
export { MemoryRegistryStore } from './memoryRegistryStore';
export { EmbeddedRegistryStore } from './embeddedRegistryStore';
export { PRIOR_REPUTATION, emptyStanding } from './internal/reputation';
export { RegistryFederation, federationRoutes } from './federation/registryFederation';

export type { RegistryServerOptions } from './registryServer';
export type { MemoryRegistryStoreOptions } from './memoryRegistryStore';
export type { EmbeddedRegistryStoreOptions } from './embeddedRegistryStore';
export type { EventReplay, RegistryStore, StoreSearch, StoredPage } from './registryStore';
export type { AgentStanding, StoredAgent } from './storedAgent';
export type { A2aDirectoryEntry } from './a2a/a2aDirectory';
export type {
  FederatedSearchOutcome,
  FederationMirrorOptions,
  FederationPeer,
  FederationPeerStatus,
  RegistryFederationDeps,
  RegistryFederationOptions,
} from './federation/registryFederation';
export type { PeerMirrorStatus } from './federation/peerMirror';
export type { ReputationRules } from './internal/reputation';
