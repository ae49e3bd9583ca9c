import { isSovError, SovError, type RegistryClient } from '@sov/core';
import { isDidKey } from './didKey';
import type { PeerKeyResolver, PeerKeys } from './secureMessenger';
import { verifyX25519Binding } from './x25519Binding';

/**
 * Resolves a peer's X25519 key from its registry record
 * (`metadata.x25519`), checking that the key is signed by the peer's did:key.
 * Takes a client, or a function returning the current one (an agent may
 * replace its client during initialize). Throws NOT_FOUND for an agent the
 * registry does not know or that published no key, SIGNATURE_INVALID for a
 * key not signed by the agent.
 *
 * @example
 * const messenger = new SecureMessenger({ identity, resolver: registryKeyResolver(registry) });
 */
export function registryKeyResolver(registry: RegistryClient | (() => RegistryClient | undefined)): PeerKeyResolver {
  const current = typeof registry === 'function' ? registry : () => registry;
  return {
    async resolve(agentId: string): Promise<PeerKeys> {
      if (!isDidKey(agentId)) throw new SovError('NOT_FOUND', `${agentId.slice(0, 80)} is not an Ed25519 did:key, so it has no verifiable X25519 key`);
      const client = current();
      if (!client) throw new SovError('NOT_FOUND', `No registry to look up ${agentId} in`);
      let record;
      try {
        record = await client.get(agentId);
      } catch (e) {
        if (isSovError(e) && (e.code === 'NOT_FOUND' || e.code === 'LEASE_EXPIRED')) {
          throw new SovError('NOT_FOUND', `Agent ${agentId} is not in the registry`, { cause: e });
        }
        throw e;
      }
      if (record.id !== agentId) throw new SovError('SIGNATURE_INVALID', `The registry answered the record of ${record.id} for ${agentId}`);
      const binding = record.metadata?.['x25519'];
      if (binding === undefined) throw new SovError('NOT_FOUND', `Agent ${agentId} publishes no X25519 key (metadata.x25519)`);
      return { id: agentId, x25519PublicKey: verifyX25519Binding(agentId, binding), endpoint: record.endpoint };
    },
  };
}
