import type { AgentRecord, AgentRegistration } from '@sov/core';

/**
 * An agent as a RegistryStore keeps it: the public record plus the lease and
 * heartbeat history that availability is computed from (times in ms).
 */
export interface StoredAgent extends Omit<AgentRecord, 'availability'> {
  expiresAtMs: number;
  /** When the agent first registered (kept across re-registrations while the record lives). */
  firstSeenMs: number;
  /** When the current lease stretch started (last registration or heartbeat). */
  lastBeatMs: number;
  /** Time covered by leases before lastBeatMs. */
  liveMs: number;
}

/**
 * What an agent id has earned, kept apart from its registration so that it
 * outlives it: deregistering and registering again, a lease that expired and
 * a registry restart all keep it. Stakes are kept by id the same way.
 */
export interface AgentStanding {
  agentId: string;
  /** Reputation in [0, 1] computed from the raters below (see the registry README). */
  reputation: number;
  /** Ratings counted in all. */
  ratings: number;
  /** The most recent raters, each with the mean of its ratings, oldest first. */
  raters: Array<{ id: string; mean: number; count: number; lastAtMs: number }>;
  /** Raters folded out of `raters` once it was full: the sum of their means and how many they were. */
  folded: { sum: number; count: number };
}

/** Share of the time since first seen that the agent held a live lease, in [0, 1]. */
export function availabilityOf(agent: StoredAgent, now: number): number {
  const total = now - agent.firstSeenMs;
  if (total <= 0) return 1;
  const covered = agent.liveMs + Math.max(0, Math.min(now, agent.expiresAtMs) - agent.lastBeatMs);
  return Math.max(0, Math.min(1, covered / total));
}

/** The public record of a stored agent at time `now`. */
export function toRecord(agent: StoredAgent, now: number): AgentRecord {
  return {
    id: agent.id,
    name: agent.name,
    endpoint: agent.endpoint,
    capabilities: agent.capabilities,
    services: agent.services,
    metadata: agent.metadata,
    ttl: agent.ttl,
    registeredAt: agent.registeredAt,
    lastHeartbeat: agent.lastHeartbeat,
    expiresAt: agent.expiresAt,
    reputation: agent.reputation,
    availability: Math.round(availabilityOf(agent, now) * 10000) / 10000,
  };
}

/**
 * The stored agent a registration makes at `now`: a new one, or the
 * previous record re-registered (keeping its first-seen time, reputation and
 * the lease time it covered, and its registration time while it is live).
 * `reputation` is the id's standing, which wins over the previous record's.
 */
export function registeredAgent(
  registration: AgentRegistration,
  previous: StoredAgent | undefined,
  now: number,
  ttlSec: number,
  reputation?: number,
): StoredAgent {
  const alive = previous && previous.expiresAtMs > now ? previous : undefined;
  return {
    id: registration.id,
    name: registration.name,
    endpoint: registration.endpoint,
    capabilities: [...registration.capabilities],
    services: [...(registration.services ?? [])],
    metadata: { ...registration.metadata },
    ttl: ttlSec,
    registeredAt: alive?.registeredAt ?? new Date(now).toISOString(),
    lastHeartbeat: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlSec * 1000).toISOString(),
    reputation: reputation ?? previous?.reputation ?? 0.5,
    expiresAtMs: now + ttlSec * 1000,
    firstSeenMs: previous?.firstSeenMs ?? now,
    lastBeatMs: now,
    liveMs: previous ? previous.liveMs + Math.max(0, Math.min(now, previous.expiresAtMs) - previous.lastBeatMs) : 0,
  };
}

/** The stored agent after a heartbeat at `now`: the lease renewed, the covered time counted. */
export function renewedAgent(agent: StoredAgent, now: number): StoredAgent {
  return {
    ...agent,
    lastHeartbeat: new Date(now).toISOString(),
    expiresAt: new Date(now + agent.ttl * 1000).toISOString(),
    expiresAtMs: now + agent.ttl * 1000,
    liveMs: agent.liveMs + (now - agent.lastBeatMs),
    lastBeatMs: now,
  };
}
