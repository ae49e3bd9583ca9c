import EventEmitter from 'eventemitter3';
import {
  SovError,
  systemClock,
  type AgentRecord,
  type AgentRegistration,
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
import { MemoryRegistryStore, registeredAgent, renewedAgent, toRecord, type StoredAgent } from '@sov/registry';

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
    const agent = registeredAgent(registration, previous, now, ttl);
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

  /** Records feedback; the receipt must name a registered callee and count once (signatures are not checked). */
  async submitFeedback(feedback: Feedback): Promise<{ agentId: string; reputation: number }> {
    this.record('submitFeedback', feedback);
    const agent = await this.live(feedback.receipt.callee);
    if (!(await this.store.useReceipt(feedback.receipt.id))) {
      throw new SovError('CONFLICT', `The receipt ${feedback.receipt.id} has already been used for feedback`);
    }
    const reputation = agent.reputation + 0.1 * (feedback.rating - agent.reputation);
    await this.store.put({ ...agent, reputation });
    await this.emit('reputation_changed', { peer_id: agent.id, reputation });
    return { agentId: agent.id, reputation };
  }

  subscribe(options: RegistryEventsOptions = {}): RegistryEventSubscription {
    this.record('subscribe', options);
    const types = options.types ? new Set<RegistryEventType>(options.types) : undefined;
    const emitter = new EventEmitter<{ event: [RegistryEvent] }>();
    let last = options.lastEventId;
    const forward = (e: RegistryEvent) => {
      if (types && !types.has(e.type)) return;
      last = e.id;
      emitter.emit('event', e);
    };
    this.events.on('event', forward);
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
