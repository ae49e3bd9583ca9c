import type { FastifyInstance } from 'fastify';
import { SovError, type AgentRegistration } from '@sov/core';
import { registeredAgent, renewedAgent, toRecord, type StoredAgent } from '../storedAgent';
import { liveAt, notRegistered, type RouteContext } from './routeContext';

/** Leases: what a registration names none of. */
export interface AgentRouteOptions {
  /** Lease length when a registration names none, in seconds. */
  defaultTtlSec: number;
}

/**
 * An agent's own record: register (`POST /v1/agents`), heartbeat, deregister
 * and update metadata, each signed by the agent it acts for, and read one
 * record (`GET /v1/agents/:id`). Each change runs under the agent's lock and
 * publishes its event inside it, so one agent's events follow the order of
 * its writes (and with a shared store commit with them).
 */
export function agentRoutes(app: FastifyInstance, ctx: RouteContext, options: AgentRouteOptions): void {
  const { store, clock, logger, auth, input, agentLocks, events } = ctx;

  app.post('/v1/agents', async (req, reply) => {
    const caller = await auth.caller(req, true);
    const reg = input.check<AgentRegistration>('registration', 'registration', input.body(req));
    auth.actingAs(caller, reg.id);
    input.metadataSize(reg.metadata);
    const ttl = reg.ttl ?? options.defaultTtlSec;
    const { agent, alive, now } = await agentLocks.run(reg.id, async () => {
      const now = clock.now();
      const previous = await store.get(reg.id);
      const alive = liveAt(previous, clock.now()) !== undefined;
      // Reputation belongs to the id, not to one registration: deregistering cannot launder it.
      const standing = await store.getStanding(reg.id);
      const agent = registeredAgent(reg, previous, now, ttl, standing?.reputation);
      await store.put(agent);
      // The record rides along: a federated registry's mirror of this one applies it without reading it back.
      await events.publish(alive ? 'peer_updated' : 'peer_joined', { peer_id: reg.id, name: reg.name, capabilities: reg.capabilities, record: toRecord(agent, now) });
      return { agent, alive, now };
    });
    logger.info(alive ? 'agent re-registered' : 'agent registered', { agentId: reg.id, endpoint: reg.endpoint });
    return reply.code(alive ? 200 : 201).send({ success: true, agent: toRecord(agent, now), lease: { ttl, expiresAt: agent.expiresAt } });
  });

  app.post<{ Params: { id: string } }>('/v1/agents/:id/heartbeat', async (req) => {
    const caller = await auth.caller(req, true);
    auth.actingAs(caller, req.params.id);
    const renewed = await agentLocks.run(req.params.id, async () => {
      const now = clock.now();
      const agent = await store.get(req.params.id);
      if (!agent) throw notRegistered(req.params.id);
      if (agent.expiresAtMs <= now) {
        throw new SovError('LEASE_EXPIRED', `The lease of ${req.params.id} expired at ${agent.expiresAt}; register again`);
      }
      const renewed = renewedAgent(agent, now);
      await store.put(renewed);
      return renewed;
    });
    return { success: true, lease: { ttl: renewed.ttl, expiresAt: renewed.expiresAt } };
  });

  app.delete<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
    const caller = await auth.caller(req, true);
    auth.actingAs(caller, req.params.id);
    const existed = await agentLocks.run(req.params.id, async () => {
      const existed = await store.delete(req.params.id);
      if (existed) await events.publish('peer_left', { peer_id: req.params.id, reason: 'deregistered' });
      return existed;
    });
    if (!existed) throw notRegistered(req.params.id);
    logger.info('agent deregistered', { agentId: req.params.id });
    return { success: true };
  });

  app.put<{ Params: { id: string } }>('/v1/agents/:id/metadata', async (req) => {
    const caller = await auth.caller(req, true);
    auth.actingAs(caller, req.params.id);
    const { metadata } = input.check<{ metadata: Record<string, unknown> }>('metadata', 'metadata update', input.body(req));
    input.metadataSize(metadata);
    const updated = await agentLocks.run(req.params.id, async () => {
      const agent = liveAt(await store.get(req.params.id), clock.now());
      if (!agent) throw notRegistered(req.params.id);
      const updated: StoredAgent = { ...agent, metadata };
      await store.put(updated);
      await events.publish('peer_updated', { peer_id: updated.id, fields: ['metadata'], record: toRecord(updated, clock.now()) });
      return updated;
    });
    return { success: true, agent: toRecord(updated, clock.now()) };
  });

  app.get<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
    const agent = liveAt(await store.get(req.params.id), clock.now());
    if (!agent) throw notRegistered(req.params.id);
    return { success: true, agent: toRecord(agent, clock.now()) };
  });
}
