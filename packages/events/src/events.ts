import { join } from 'node:path';
import { SovError, toSovError, type AgentContext, type Capability, type RequestHandler } from '@sov/core';
import { FileStateStore, type StateStore } from '@sov/state';
import { EventBus, type EventBusOptions } from './eventBus';
import { RegistrySubscription, type RegistrySubscriptionHandle, type RegistrySubscriptionOptions } from './registrySubscription';
import type { EventMap } from './types';

/** Where a durable bus keeps its journal. */
export type DurableOption =
  | { /** A directory; the journal is a FileStateStore under `<dir>/<agent id>`. */ dir: string }
  | { /** A store of your own (opened); the bus does not close it. */ store: StateStore };

/** Options of the events capability. */
export interface EventsOptions extends Omit<EventBusOptions, 'journal' | 'source' | 'logger' | 'clock'> {
  /** @default 'events' */
  name?: string;
  /** Durable mode: accepted events survive a crash. @default memory only */
  durable?: DurableOption;
  /** Follow the agent's registry from start (as `subscribeRegistry(options)`). @default not followed */
  registry?: RegistrySubscriptionOptions | boolean;
  /**
   * Emit `request_received`, `request_completed` and `request_failed` around
   * every call the agent serves, when a handler listens for them. They never
   * hold a request up: when the queue is full they are dropped (counted).
   * @default true
   */
  requestEvents?: boolean;
  /** Prefix of the metric names on `/metrics`. @default 'sov_events' */
  metricsPrefix?: string;
}

/** What `agent.use(events())` returns: the agent's event bus, plus registry subscriptions. */
export interface EventsApi<E extends EventMap = EventMap> extends EventBus<E> {
  /**
   * Feeds registry events (`peer_joined`, `peer_left`, `peer_updated`,
   * `stake_changed`, `reputation_changed`, `new_request`) into the queue.
   * The subscription is signed with the agent's identity, so `new_request`
   * events addressed to this agent reach it (and no other's). Called before
   * start, it opens when the agent starts; closed at shutdown.
   */
  subscribeRegistry(options?: RegistrySubscriptionOptions): Promise<RegistrySubscriptionHandle>;
}

/**
 * The guide's event-driven agent as a capability: `on` / `once` / `off`,
 * `emit`, a bounded queue handled in the background, registry events and
 * request events in the same queue, and (with `durable`) no acknowledged
 * event lost across a crash. Metrics go to the agent's `/metrics`, and the
 * queue's depth to its health checks.
 *
 * @example
 * type MyEvents = { reading: { value: number } };
 * const events = agent.use(events<MyEvents>({ capacity: 10_000, durable: { dir: './events' }, registry: { types: ['peer_joined'] } }));
 * events.on('peer_joined', async (e) => console.log('joined', e.data.peer_id));
 * events.on('reading', async (e, { signal }) => save(e.data.value, signal));
 * await agent.start();
 * await events.emit('reading', { value: 42 });
 */
export function events<E extends EventMap = EventMap>(options: EventsOptions = {}): Capability<EventsApi<E>> {
  const { name = 'events', durable, registry, requestEvents = true, metricsPrefix, ...busOptions } = options;
  const bus = new EventBus<E>(busOptions) as EventsApi<E>;
  let ctx: AgentContext | undefined;
  let ownedStore: StateStore | undefined;
  let started = false;
  const subscriptions: Array<RegistrySubscription<E>> = [];
  const names = new Set<string>();
  // The subscription the options ask for holds its name (and its stored resume point) from the start.
  if (registry) names.add((registry === true ? undefined : registry.name) ?? 'registry');
  /** Asked for before initialize: made then, resolved at start. */
  const requested: Array<{ options: RegistrySubscriptionOptions; resolve: (h: RegistrySubscriptionHandle) => void; reject: (e: unknown) => void; sub?: RegistrySubscription<E>; auto?: boolean }> = [];
  const noRegistry = () => new SovError('NOT_FOUND', 'Cannot follow registry events: this agent has no registry (set registryUrl, or pass options.registry)');

  bus.subscribeRegistry = async (subOptions: RegistrySubscriptionOptions = {}) => {
    const subName = subOptions.name ?? 'registry';
    if (names.has(subName)) throw new SovError('CONFLICT', `A registry subscription named "${subName}" exists already; give the second one another name`);
    if (!ctx) {
      names.add(subName);
      return new Promise<RegistrySubscriptionHandle>((resolve, reject) => requested.push({ options: subOptions, resolve, reject }));
    }
    const client = subOptions.registry ?? ctx.registry;
    if (!client) throw noRegistry();
    names.add(subName);
    const sub = new RegistrySubscription<E>(bus, client, subOptions, ctx.identity?.signer);
    subscriptions.push(sub);
    // Before start it opens with the others; after, now.
    if (started) await sub.open();
    return sub;
  };

  // The request events' own shapes, whatever E says.
  const raw = bus as unknown as EventBus;
  const wrapRequests = (next: RequestHandler): RequestHandler => async (request, rc) => {
    if (!bus.isRunning || (bus.listenerCount('request_received') === 0 && bus.listenerCount('request_completed') === 0 && bus.listenerCount('request_failed') === 0)) {
      return next(request, rc);
    }
    const base = { requestId: rc.requestId, service: request.service ?? '', caller: rc.caller?.id ?? null };
    const key = rc.requestId;
    if (bus.listenerCount('request_received') > 0) raw.post('request_received', { ...base, params: request.params }, { key });
    const t0 = performance.now();
    try {
      const reply = await next(request, rc);
      if (bus.listenerCount('request_completed') > 0) raw.post('request_completed', { ...base, result: reply.result, durationMs: performance.now() - t0 }, { key });
      return reply;
    } catch (e) {
      const err = toSovError(e);
      if (bus.listenerCount('request_failed') > 0) raw.post('request_failed', { ...base, error: { code: err.code, message: err.message }, durationMs: performance.now() - t0 }, { key });
      throw e;
    }
  };

  return {
    name,
    api: bus,
    async initialize(context) {
      ctx = context;
      bus.setSource(context.agentId);
      bus.setLogger(context.logger.child({ component: name }));
      if (durable) {
        if ('store' in durable) bus.setJournal(durable.store);
        else {
          ownedStore = await FileStateStore.open({ dir: join(durable.dir), namespace: context.agentId, logger: context.logger.child({ component: `${name}-journal` }), clock: context.clock });
          bus.setJournal(ownedStore);
        }
      }
      bus.registerMetrics(context.metrics, metricsPrefix);
      context.endpoint.addQueue(name, () => bus.depth);
      if (requestEvents) context.wrapRequestHandler(wrapRequests);
      if (registry) requested.push({ options: registry === true ? {} : registry, resolve: () => undefined, reject: () => undefined, auto: true });
      // Subscriptions asked for before the agent had a context get their registry and signer now.
      for (const r of requested) {
        const client = r.options.registry ?? context.registry;
        if (!client) {
          const error = noRegistry();
          names.delete(r.options.name ?? 'registry');
          r.reject(error);
          if (r.auto) throw error;
          continue;
        }
        r.sub = new RegistrySubscription<E>(bus, client, r.options, context.identity?.signer);
        subscriptions.push(r.sub);
      }
    },
    async start() {
      await bus.start();
      for (const s of subscriptions) await s.open();
      started = true;
      for (const r of requested.splice(0)) if (r.sub) r.resolve(r.sub);
    },
    async shutdown(context, budgetMs) {
      for (const s of subscriptions.splice(0)) await s.close().catch(() => undefined);
      // Keep a little of the budget to flush and close the journal.
      const report = await bus.stop(Number.isFinite(budgetMs) ? Math.max(0, budgetMs - Math.min(500, budgetMs / 4)) : 10_000);
      if (report.remaining > 0 && !report.kept) context.logger.warn('events dropped at shutdown', { dropped: report.remaining });
      if (ownedStore) await ownedStore.close();
    },
  };
}
