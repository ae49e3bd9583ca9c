import type { AgentRecord } from '../wire';

/**
 * A whole registry record for a test, from the fields the test cares about:
 * `id` and whatever else it sets; the rest is what a newcomer registered at
 * the epoch would have (name = id, no capabilities or services, a 30 s lease,
 * reputation 0.5, availability 1). Public through `@sov/testing`.
 *
 * @example
 * const listed = agentRecord({ id: 'worker', endpoint: peer.url, capabilities: ['echo'] });
 * registry.agents.set(listed.id, listed);
 */
export function agentRecord(fields: Partial<AgentRecord> & { id: string }): AgentRecord {
  const ttl = fields.ttl ?? 30;
  return {
    name: fields.id,
    endpoint: 'http://127.0.0.1:1',
    capabilities: [],
    services: [],
    metadata: {},
    ttl,
    registeredAt: new Date(0).toISOString(),
    lastHeartbeat: new Date(0).toISOString(),
    expiresAt: new Date(ttl * 1000).toISOString(),
    reputation: 0.5,
    availability: 1,
    ...fields,
  };
}
