import EventEmitter from 'eventemitter3';
import {
  SovError,
  systemClock,
  type AgentRecord,
  type AgentRegistration,
  type AgentRequest,
  type Clock,
  type Feedback,
  type Lease,
  type RegisterResult,
  type RegistryClient,
  type RegistryEvent,
  type RegistryEventSubscription,
  type RegistryEventType,
  type RegistryEventsOptions,
  type SearchPage,
  type SearchQuery,
  type StakeBalance,
} from '@sov/core';
import { MemoryRegistryStore, type StoredAgent } from '@sov/registry';
import { ratedStanding, registeredAgent, renewedAgent, toRecord } from '@sov/registry/internal';

/** One call made to a MockRegistry. */
export interface MockRegistryCall {
  method: keyof RegistryClient;
  args: unknown[];
}

/** Options of MockRegistry. */
export interface MockRegistryOptions {
  /** @default the system clock */
  clock?: Clock;
  /** Lease length when a registration names none, in seconds. @default 30 */
  defaultTtlSec?: number;
}

/**
 * A RegistryClient in memory for unit tests: the registry's semantics
 * (leases, search order, stakes, receipts counted once, events) without a
 * server, and a record of every call. Inject it with `new Agent({ registry })`.
 *
 * @example
 * const registry = new MockRegistry();
 * const agent = new Agent({ name: 'a', registry });
 * await agent.start();
 * expect(registry.callsTo('register')).toHaveLength(1);
 */
export class MockRegistry implements RegistryClient {
  /** Every call, in order. */
  readonly calls: MockRegistryCall[] = [];
  /** The store behind the mock; tests may read it directly. */
  readonly store = new MemoryRegistryStore();
  private readonly clock: Clock;
  private readonly defaultTtlSec: number;
  private readonly events = new EventEmitter<{ event: [RegistryEvent] }>();
  private failures = new Map<keyof RegistryClient, SovError>();
  private requestSeq = 0;

  constructor(options: MockRegistryOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultTtlSec = options.defaultTtlSec ?? 30;
  }

  /** The calls made to one method. */
  callsTo(method: keyof RegistryClient): MockRegistryCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Makes every later call to `method` fail with `error` until `clearFailure`. */
  failNext(method: keyof RegistryClient, error: SovError): void {
    this.failures.set(method, error);
  }

  /** Stops failing `method`. */
  clearFailure(method: keyof RegistryClient): void {
    this.failures.delete(method);
  }

  async register(registration: AgentRegistration): Promise<RegisterResult> {
    this.record('register', registration);
    const now = this.clock.now();
    const ttl = registration.ttl ?? this.defaultTtlSec;
    const previous = await this.store.get(registration.id);
    const alive = previous && previous.expiresAtMs > now ? previous : undefined;
    const standing = await this.store.getStanding(registration.id);
    const agent = registeredAgent(registration, previous, now, ttl, standing?.reputation);
    await this.store.put(agent);
    await this.emit(alive ? 'peer_updated' : 'peer_joined', { peer_id: agent.id });
    return { agent: toRecord(agent, now), lease: { ttl, expiresAt: agent.expiresAt } };
  }

  async heartbeat(agentId: string): Promise<Lease> {
    this.record('heartbeat', agentId);
    const now = this.clock.now();
    const agent = await this.store.get(agentId);
    if (!agent) throw new SovError('NOT_FOUND', `No agent registered with id ${agentId}`);
    if (agent.expiresAtMs <= now) throw new SovError('LEASE_EXPIRED', `The lease of ${agentId} expired at ${agent.expiresAt}`);
    const renewed = renewedAgent(agent, now);
    await this.store.put(renewed);
    return { ttl: renewed.ttl, expiresAt: renewed.expiresAt };
  }

  async deregister(agentId: string): Promise<void> {
    this.record('deregister', agentId);
    if (!(await this.store.delete(agentId))) throw new SovError('NOT_FOUND', `No agent registered with id ${agentId}`);
    await this.emit('peer_left', { peer_id: agentId, reason: 'deregistered' });
  }

  async get(agentId: string): Promise<AgentRecord> {
    this.record('get', agentId);
    return toRecord(await this.live(agentId), this.clock.now());
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    this.record('search', query);
    const now = this.clock.now();
    const page = await this.store.search({ ...query, limit: query.limit ?? 50 }, now);
    return { agents: page.agents.map((a) => toRecord(a, now)), total: page.total, nextCursor: page.nextCursor };
  }

  async updateMetadata(agentId: string, metadata: Record<string, unknown>): Promise<AgentRecord> {
    this.record('updateMetadata', agentId, metadata);
    const agent = { ...(await this.live(agentId)), metadata: { ...metadata } };
    await this.store.put(agent);
    await this.emit('peer_updated', { peer_id: agentId, fields: ['metadata'] });
    return toRecord(agent, this.clock.now());
  }

  async getStake(agentId: string): Promise<StakeBalance> {
    this.record('getStake', agentId);
    return { agentId, stake: await this.store.getStake(agentId) };
  }

  /** Operator side (not on RegistryClient): sets a stake by crediting or debiting. */
  async creditStake(agentId: string, amount: number): Promise<StakeBalance> {
    const stake = await this.store.adjustStake(agentId, amount);
    await this.emit('stake_changed', { peer_id: agentId, stake, change: amount });
    return { agentId, stake };
  }

  /**
   * Records feedback with the registry's rule (one rater, one vote, a prior
   * of 0.5 worth 4 raters); each receipt counts once. Signatures are not checked.
   */
  async submitFeedback(feedback: Feedback): Promise<{ agentId: string; reputation: number }> {
    this.record('submitFeedback', feedback);
    const { callee, caller, id } = feedback.receipt;
    const now = this.clock.now();
    const standing = ratedStanding(await this.store.getStanding(callee), callee, caller, feedback.rating, now, { priorWeight: 4, maxRaters: 256 });
    const current = await this.store.get(callee);
    const agent = current ? { ...current, reputation: standing.reputation } : undefined;
    if (!(await this.store.recordFeedback({ receiptId: id, standing, ...(agent ? { agent } : {}) }))) {
      throw new SovError('CONFLICT', `The receipt ${id} has already been used for feedback`);
    }
    await this.emit('reputation_changed', { peer_id: callee, reputation: standing.reputation, rating: feedback.rating, from: caller });
    return { agentId: callee, reputation: standing.reputation };
  }

  /**
   * As the registry: a `new_request` event for a live agent, which only a
   * subscription signed by that agent receives (here: whose signer's keyId
   * is the agent id). The mock verifies no signature, so the sender (`from`)
   * is what the test passes, null by default.
   */
  async sendRequest(agentId: string, request: AgentRequest, from: string | null = null): Promise<{ requestId: string }> {
    this.record('sendRequest', agentId, request);
    await this.live(agentId);
    const requestId = `mock-${++this.requestSeq}`;
    await this.emit('new_request', {
      peer_id: agentId,
      request_id: requestId,
      from,
      service: request.service,
      ...(request.params !== undefined ? { params: request.params } : {}),
    });
    return { requestId };
  }

  subscribe(options: RegistryEventsOptions = {}): RegistryEventSubscription {
    this.record('subscribe', options);
    const types = options.types ? new Set<RegistryEventType>(options.types) : undefined;
    const emitter = new EventEmitter<{ event: [RegistryEvent] }>();
    let last = options.lastEventId ?? (options.fromStart ? '0' : undefined);
    const subscriber = options.signer?.keyId;
    const deliver = (e: RegistryEvent) => {
      if (types && !types.has(e.type)) return;
      // As the registry: a request reaches only the agent it names, over a subscription it signed.
      if (e.type === 'new_request' && e.data.peer_id !== subscriber) return;
      if (last !== undefined && Number(e.id) <= Number(last)) return;
      last = e.id;
      emitter.emit('event', e);
    };
    // Live events wait while a replay is read, so that order holds.
    let pending: RegistryEvent[] | undefined;
    const forward = (e: RegistryEvent) => (pending ? pending.push(e) : deliver(e));
    this.events.on('event', forward);
    // As the real registry: new events only, unless resuming (lastEventId, or fromStart from '0').
    if (last !== undefined) {
      pending = [];
      void this.store.eventsAfter(last).then(({ events }) => {
        for (const e of events) deliver(e);
        const live = pending ?? [];
        pending = undefined;
        for (const e of live) deliver(e);
      });
    }
    return {
      get lastEventId() {
        return last;
      },
      onEvent: (listener) => {
        emitter.on('event', listener);
        return () => emitter.off('event', listener);
      },
      onError: () => () => undefined,
      close: () => {
        this.events.off('event', forward);
        return Promise.resolve();
      },
    };
  }

  /** Ends every lease that has run out (as the real registry's sweep does). */
  async sweep(): Promise<number> {
    const gone = await this.store.expire(this.clock.now());
    for (const a of gone) await this.emit('peer_left', { peer_id: a.id, reason: 'expired' });
    return gone.length;
  }

  private record(method: keyof RegistryClient, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure) throw failure;
  }

  private async live(agentId: string): Promise<StoredAgent> {
    const agent = await this.store.get(agentId);
    if (!agent || agent.expiresAtMs <= this.clock.now()) throw new SovError('NOT_FOUND', `No agent registered with id ${agentId}`);
    return agent;
  }

  private async emit(type: RegistryEventType, data: RegistryEvent['data']): Promise<void> {
    const event = await this.store.appendEvent({ type, at: new Date(this.clock.now()).toISOString(), data });
    this.events.emit('event', event);
  }
}
