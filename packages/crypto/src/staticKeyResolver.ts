import { SovError } from '@sov/core';
import type { Identity } from './identity';
import type { PeerKeyResolver, PeerKeys } from './secureMessenger';
import { verifyX25519Binding, type X25519Binding } from './x25519Binding';

/** A peer known without a registry: an Identity, or an id with its signed X25519 binding. */
export type StaticPeer = Identity | { id: string; x25519: X25519Binding; endpoint?: string };

/**
 * Resolves peers from a fixed list (no registry): for tests and small,
 * closed deployments. Bindings are checked against their ids once, here.
 *
 * @example
 * const resolver = staticKeyResolver([alice, { id: bob.id, x25519: bob.registrationMetadata().x25519, endpoint: bobUrl }]);
 */
export function staticKeyResolver(peers: readonly StaticPeer[]): PeerKeyResolver {
  const known = new Map<string, PeerKeys>();
  for (const peer of peers) {
    const x25519 = 'x25519PublicKey' in peer ? peer.x25519PublicKey : verifyX25519Binding(peer.id, peer.x25519);
    const endpoint = 'endpoint' in peer ? peer.endpoint : undefined;
    known.set(peer.id, { id: peer.id, x25519PublicKey: x25519, ...(endpoint === undefined ? {} : { endpoint }) });
  }
  return {
    resolve(agentId: string): Promise<PeerKeys> {
      const peer = known.get(agentId);
      return peer ? Promise.resolve(peer) : Promise.reject(new SovError('NOT_FOUND', `Agent ${agentId.slice(0, 80)} is not a known peer`));
    },
  };
}
