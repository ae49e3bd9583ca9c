import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import EventEmitter from 'eventemitter3';
import type { ValidateFunction } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import {
  DEFAULT_MAX_JSON_DEPTH,
  REGISTRY_EVENT_TYPES,
  SovError,
  ValidationError,
  createLogger,
  answerExpectationsInWireFormat,
  MAX_AMOUNT,
  isAmount,
  receiverAuthorities,
  systemClock,
  toSovError,
  type AgentRegistration,
  type CallReceipt,
  type Clock,
  type Logger,
  type ReceiverBinding,
  type RegistryEvent,
  type RegistryEventType,
  type VerifiedCaller,
  type Verifier,
} from '@sov/core';
import { ajvProblems, createAjv, jsonDepthProblem } from '@sov/core/internal';
import { MemoryRegistryStore } from './memoryRegistryStore';
import type { RegistryStore } from './registryStore';
import { KeyedLock } from './internal/keyedLock';
import { storeSearchOf } from './internal/searchQuery';
import { frameworkErrorOf, refuseMissingHost, wireErrorServerOptions } from './internal/wireErrorServer';
import { ratedStanding } from './internal/reputation';
import { registeredAgent, renewedAgent, toRecord, type StoredAgent } from './storedAgent';
import { RegistryMetrics } from './internal/registryMetrics';
import { dashboardRoutes } from './dashboard/dashboardRoutes';
import { a2aDirectoryRoutes } from './a2a/a2aDirectory';
import { federationRoutes, type RegistryFederationOptions } from './federation/registryFederation';
import {
  agentRequestSchema,
  feedbackSchema,
  metadataSchema,
  registrationSchema,
  searchResponseSchema,
  searchSchema,
  stakeChangeSchema,
} from './internal/schemas';

/** Options of a RegistryServer. */
export interface RegistryServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /**
   * The URL agents reach this registry at (behind a proxy, in a container
   * network). Signed requests must be signed for it or for the bound address
   * (with its loopback names for a loopback or wildcard bind); others are
   * refused with WRONG_RECEIVER, so a request signed for another registry or
   * agent cannot be spent here. @default the bound address only
   */
  publicUrl?: string;
  /** More authorities (host:port) the registry is reached at. @default [] */
  acceptAuthorities?: string[];
  /** @default a fresh MemoryRegistryStore */
  store?: RegistryStore;
  /** Verifies signed requests (register, heartbeat, deregister, metadata, feedback, requests). Required unless `insecure`. */
  verifier?: Verifier;
  /** Checks a call receipt's signature against its callee's id. Required for feedback unless `insecure`. */
  receiptVerifier?: (receipt: CallReceipt) => boolean;
  /**
   * Accept unsigned requests and trust the ids in them. For local experiments
   * only: anyone can then act as anyone. Logged as a warning at start. @default false
   */
  insecure?: boolean;
  /** Bearer token that credits and debits stakes; stake changes are refused without one. Never logged. */
  operatorToken?: string;
  /** @default the system clock */
  clock?: Clock;
  /** Lease length when a registration names none, in seconds. @default 30 */
  defaultTtlSec?: number;
  /** Longest lease a registration may ask for, in seconds. @default 3600 */
  maxTtlSec?: number;
  /** How often expired leases are swept, in ms. @default 1000 */
  sweepIntervalMs?: number;
  /** Largest request body in bytes. @default 65536 */
  bodyLimit?: number;
  /** Largest metadata object, serialised, in bytes. @default 8192 */
  maxMetadataBytes?: number;
  /** Requests per client (IP) per window; `false` turns the limit off. @default { max: 1200, windowMs: 60000 } */
  rateLimit?: { max: number; windowMs: number } | false;
  /** Oldest receipt accepted for feedback, in seconds. @default 86400 */
  maxReceiptAgeSec?: number;
  /**
   * How far a receipt's `at` may lie ahead of the registry's clock, in
   * seconds; a receipt dated later is refused (SIGNATURE_EXPIRED), so none
   * escapes `maxReceiptAgeSec` by being dated in the future. @default 30
   */
  maxReceiptSkewSec?: number;
  /**
   * Weight of a newcomer's prior reputation of 0.5, counted as that many
   * raters. Each rater has one vote (the mean of its ratings of that agent),
   * so one caller moves a newcomer at most to 0.4 or 0.6 with the default.
   * @default 4
   */
  reputationPriorWeight?: number;
  /** Raters remembered one by one per agent; older votes are folded into one sum and still count. @default 256 */
  maxRatersPerAgent?: number;
  /** Deepest nesting of a request body; deeper bodies are refused (400 INVALID_INPUT) before anything else reads them. @default 64 */
  maxJsonDepth?: number;
  /** Interval of keep-alive comments on event streams, in ms. @default 15000 */
  keepAliveMs?: number;
  /**
   * How long a search answer may be served again, in ms, while no agent
   * joined, left or changed (heartbeat times in it are at most this old);
   * 0 turns the cache off. @default 1000
   */
  searchCacheMs?: number;
  /** @default a JSON logger on stdout at 'info' */
  logger?: Logger;
  /** Serve the dashboard at /dashboard and its counts at GET /v1/stats (read-only; stake changes still need the operator token). @default true */
  dashboard?: boolean;
  /** Federate with other registries: this registry's identity (did:key), its peers, hop limits (see RegistryFederationOptions). @default none */
  federation?: RegistryFederationOptions;
}

interface Subscriber {
  types: Set<RegistryEventType> | undefined;
  caller: string | undefined;
  res: ServerResponse;
  lastSent: number;
  /** Live events that arrived while the replay was being sent. */
  pending: RegistryEvent[] | undefined;
}

const eventTypes = new Set<string>(REGISTRY_EVENT_TYPES);

function send(reply: FastifyReply, error: SovError): FastifyReply {
  const retryAfterMs = (error.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof retryAfterMs === 'number') void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return reply.code(error.status).type('application/json').send(error.toWire());
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The registry server. Agents register with a lease (signed), renew it with
 * heartbeats, deregister, update their metadata, and find each other by
 * capability, reputation and price. Leases that are not renewed expire.
 * Events stream over SSE and resume with Last-Event-ID. Stakes are read by
 * anyone and changed by the operator; feedback backed by a signed receipt
 * moves reputation. Every input is validated: bad input gets a 4xx with a
 * stable code and changes nothing.
 *
 * @example
 * const registry = await RegistryServer.start({ port: 7000, verifier: new RequestVerifier() });
 * console.log(registry.url);
 * await registry.close();
 */
export class RegistryServer {
  readonly store: RegistryStore;
  private readonly app: FastifyInstance;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly emitter = new EventEmitter<{ event: [RegistryEvent] }>();
  private readonly subscribers = new Set<Subscriber>();
  /** One change at a time to each agent's record (read, change, write back); across processes too with a shared store's lockAgent. */
  private readonly agentLocks: KeyedLock;
  /** Set while a shared store feeds events (of every replica) to fanOut. */
  private unsubscribeStore: (() => void) | undefined;
  private readonly opts: Required<
    Pick<
      RegistryServerOptions,
      | 'host'
      | 'port'
      | 'defaultTtlSec'
      | 'maxTtlSec'
      | 'sweepIntervalMs'
      | 'bodyLimit'
      | 'maxMetadataBytes'
      | 'maxReceiptAgeSec'
      | 'maxReceiptSkewSec'
      | 'reputationPriorWeight'
      | 'maxRatersPerAgent'
      | 'maxJsonDepth'
      | 'keepAliveMs'
      | 'searchCacheMs'
      | 'insecure'
    >
  >;
  private readonly verifier: Verifier | undefined;
  private receiver: ReceiverBinding | undefined;
  private readonly publicUrl: string | undefined;
  private readonly acceptAuthorities: string[];
  private readonly receiptVerifier: ((receipt: CallReceipt) => boolean) | undefined;
  private readonly operatorToken: string | undefined;
  private readonly dashboard: boolean;
  private readonly federationOptions: RegistryFederationOptions | undefined;
  private readonly rateLimit: { max: number; windowMs: number } | false;
  private readonly metrics: RegistryMetrics;
  private readonly validate: Record<'registration' | 'metadata' | 'search' | 'stake' | 'feedback' | 'request', ValidateFunction>;
  /**
   * Recent search answers, serialised. An entry serves while nothing that
   * changes search results happened (`generation`, bumped by every join,
   * leave, update and reputation change) and for at most a second, so
   * heartbeat timestamps in it are never older than searchCacheMs.
   */
  private readonly searchCache = new Map<string, { generation: number; until: number; body: string }>();
  private generation = 0;
  private sweepTimer: unknown;
  private keepAliveTimer: unknown;
  private address: string | undefined;
  private closed = false;
  private ready = false;

  constructor(options: RegistryServerOptions = {}) {
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      defaultTtlSec: options.defaultTtlSec ?? 30,
      maxTtlSec: options.maxTtlSec ?? 3600,
      sweepIntervalMs: options.sweepIntervalMs ?? 1000,
      bodyLimit: options.bodyLimit ?? 65536,
      maxMetadataBytes: options.maxMetadataBytes ?? 8192,
      maxReceiptAgeSec: options.maxReceiptAgeSec ?? 86400,
      maxReceiptSkewSec: options.maxReceiptSkewSec ?? 30,
      reputationPriorWeight: options.reputationPriorWeight ?? 4,
      maxRatersPerAgent: options.maxRatersPerAgent ?? 256,
      maxJsonDepth: options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
      keepAliveMs: options.keepAliveMs ?? 15000,
      searchCacheMs: options.searchCacheMs ?? 1000,
      insecure: options.insecure ?? false,
    };
    if (!options.verifier && !this.opts.insecure) {
      throw new SovError('INVALID_CONFIG', 'RegistryServer needs a verifier for signed requests (or insecure: true for local experiments)');
    }
    this.verifier = options.verifier;
    this.publicUrl = options.publicUrl;
    this.acceptAuthorities = options.acceptAuthorities ?? [];
    if (this.publicUrl !== undefined && !URL.canParse(this.publicUrl)) {
      throw new SovError('INVALID_CONFIG', `RegistryServer publicUrl is not a URL: ${JSON.stringify(this.publicUrl)}`);
    }
    this.receiptVerifier = options.receiptVerifier;
    this.operatorToken = options.operatorToken;
    this.dashboard = options.dashboard ?? true;
    this.federationOptions = options.federation;
    this.rateLimit = options.rateLimit ?? { max: 1200, windowMs: 60_000 };
    this.store = options.store ?? new MemoryRegistryStore();
    const store = this.store;
    this.agentLocks = new KeyedLock(store.lockAgent ? (key, section) => store.lockAgent!(key, section) : undefined);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ meta: { component: 'registry' } });
    const ajv = createAjv();
    this.validate = {
      registration: ajv.compile(registrationSchema(this.opts.maxTtlSec)),
      metadata: ajv.compile(metadataSchema),
      search: ajv.compile(searchSchema),
      stake: ajv.compile(stakeChangeSchema),
      feedback: ajv.compile(feedbackSchema),
      request: ajv.compile(agentRequestSchema),
    };
    this.metrics = new RegistryMetrics(
      () => this.store.count(),
      () => this.subscribers.size,
    );
    // Every refusal, the HTTP layer's before routing included, speaks the wire format.
    this.app = Fastify({ logger: false, ...wireErrorServerOptions({ bodyLimit: this.opts.bodyLimit }), forceCloseConnections: true });
  }

  /** Creates a server and starts listening. */
  static async start(options: RegistryServerOptions = {}): Promise<RegistryServer> {
    const server = new RegistryServer(options);
    await server.listen();
    return server;
  }

  /** The base URL once listening. */
  get url(): string {
    if (!this.address) throw new SovError('LIFECYCLE', 'Registry is not listening yet');
    return this.address;
  }

  /** Subscribes to registry events in this process; returns a function that unsubscribes. */
  onEvent(listener: (event: RegistryEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Opens the store, binds the port and starts sweeping expired leases. */
  async listen(): Promise<string> {
    await this.store.open();
    this.unsubscribeStore = this.store.subscribeEvents?.((event) => {
      // Another replica's change (or this one's, coming back) makes cached search answers stale.
      if (event.type !== 'stake_changed' && event.type !== 'new_request') this.generation++;
      this.fanOut(event);
    });
    await this.routes();
    const address = await this.app.listen({ host: this.opts.host, port: this.opts.port });
    const u = new URL(address);
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    this.receiver = { authorities: receiverAuthorities(`http://${host}:${u.port}`, this.publicUrl, this.acceptAuthorities) };
    if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = '127.0.0.1';
    this.address = u.toString().replace(/\/+$/, '');
    this.ready = true;
    this.scheduleSweep();
    this.scheduleKeepAlive();
    if (this.opts.insecure) {
      this.logger.warn('registry running in INSECURE mode: unsigned requests are accepted and anyone can act as any agent');
    }
    this.logger.info('registry listening', { url: this.address });
    return this.address;
  }

  /** Removes every lease that has ended; returns how many. Runs on its own every sweepIntervalMs. */
  async sweep(): Promise<number> {
    // Alone: a heartbeat that read a record before its lease ended must not write it back after it was expired.
    const gone = await this.agentLocks.exclusive(() => this.store.expire(this.clock.now()));
    for (const r of gone) {
      this.logger.info('lease expired', { agentId: r.id });
      await this.publish('peer_left', { peer_id: r.id, reason: 'expired' });
    }
    return gone.length;
  }

  /** Stops sweeping, ends event streams, closes every connection and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    if (this.keepAliveTimer !== undefined) this.clock.clearTimeout(this.keepAliveTimer);
    this.unsubscribeStore?.();
    for (const s of this.subscribers) s.res.end();
    this.subscribers.clear();
    await this.app.close();
    await this.store.close();
  }

  private async publish(type: RegistryEventType, data: RegistryEvent['data']): Promise<void> {
    if (type !== 'stake_changed' && type !== 'new_request') this.generation++;
    const event = await this.store.appendEvent({ type, at: new Date(this.clock.now()).toISOString(), data });
    this.metrics.events.inc({ type });
    if (!this.unsubscribeStore) this.fanOut(event);
  }

  /** Hands an event to in-process listeners and stream subscribers; with a shared store, every replica's events arrive here in id order. */
  private fanOut(event: RegistryEvent): void {
    this.emitter.emit('event', event);
    for (const s of this.subscribers) {
      if (s.pending) s.pending.push(event);
      else this.deliver(s, event);
    }
  }

  private deliver(s: Subscriber, event: RegistryEvent): void {
    const seq = Number(event.id);
    if (seq <= s.lastSent) return;
    if (s.types && !s.types.has(event.type)) return;
    // Requests addressed to an agent go only to that agent's own (signed) stream.
    if (event.type === 'new_request' && s.caller !== event.data.peer_id) return;
    s.lastSent = seq;
    s.res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify({ at: event.at, data: event.data })}\n\n`);
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep()
        .catch((e: unknown) => this.logger.error('sweep failed', { error: toSovError(e).message }))
        .finally(() => this.scheduleSweep());
    }, this.opts.sweepIntervalMs);
  }

  private scheduleKeepAlive(): void {
    if (this.closed) return;
    this.keepAliveTimer = this.clock.setTimeout(() => {
      for (const s of this.subscribers) s.res.write(': keep-alive\n\n');
      this.scheduleKeepAlive();
    }, this.opts.keepAliveMs);
  }

  private body(req: FastifyRequest): unknown {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (raw.length === 0) throw new SovError('INVALID_INPUT', 'Request body is empty; expected a JSON object');
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (cause) {
      throw new SovError('INVALID_JSON', `Request body is not valid JSON: ${(cause as Error).message}`);
    }
    // Before the schema, the size check or the store: each of them recurses.
    const deep = jsonDepthProblem(body, this.opts.maxJsonDepth);
    if (deep) throw new ValidationError('request body', [{ path: deep.path || '/', message: deep.reason }]);
    return body;
  }

  private check<T>(which: keyof RegistryServer['validate'], what: string, value: unknown): T {
    const v = this.validate[which];
    if (!v(value)) throw new ValidationError(what, ajvProblems(v.errors));
    return value as T;
  }

  /** Verifies the request's signature (before anything else is done with it); undefined for an allowed unsigned one. */
  private async caller(req: FastifyRequest, required: boolean): Promise<VerifiedCaller | undefined> {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verifiable = {
      method: req.method,
      path: req.url,
      authority: req.headers.host ?? '',
      headers: req.headers,
      body: raw,
      ...(this.receiver ? { receiver: this.receiver } : {}),
    };
    if (this.verifier?.isSigned(verifiable)) return this.verifier.verify(verifiable);
    if (required && !this.opts.insecure) throw new SovError('UNAUTHORIZED', `${req.method} ${req.url.split('?')[0]} needs a signed request`);
    return undefined;
  }

  /** The signer must be the agent the request acts for. */
  private actingAs(caller: VerifiedCaller | undefined, agentId: string): void {
    if (caller && caller.id !== agentId) {
      throw new SovError('ID_MISMATCH', `Request signed by ${caller.id} cannot act for agent ${agentId}`);
    }
  }

  private metadataSize(metadata: Record<string, unknown> | undefined): void {
    if (!metadata) return;
    const size = Buffer.byteLength(JSON.stringify(metadata));
    if (size > this.opts.maxMetadataBytes) {
      throw new ValidationError('metadata', [{ path: '/metadata', message: `is ${size} bytes; the limit is ${this.opts.maxMetadataBytes}` }]);
    }
  }

  private live(agent: StoredAgent | undefined): StoredAgent | undefined {
    return agent && agent.expiresAtMs > this.clock.now() ? agent : undefined;
  }

  private requireOperator(req: FastifyRequest): void {
    if (!this.operatorToken) throw new SovError('FORBIDDEN', 'Stake changes are disabled: this registry has no operator token');
    const header = req.headers.authorization;
    if (!header) throw new SovError('UNAUTHORIZED', 'Stake changes need the operator token (Authorization: Bearer ...)');
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!sameSecret(token, this.operatorToken)) throw new SovError('FORBIDDEN', 'The operator token is wrong');
  }

  private async routes(): Promise<void> {
    const app = this.app;
    const bodyLimit = this.opts.bodyLimit;
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.addHook('onRequest', refuseMissingHost);
    answerExpectationsInWireFormat(app.server);
    app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
      const known = frameworkErrorOf(err, { bodyLimit });
      if (known) return send(reply, known);
      this.logger.error('request failed', { error: err.message, stack: err.stack });
      return send(reply, new SovError('INTERNAL', 'Internal error'));
    });
    app.setNotFoundHandler((req, reply) =>
      send(reply, new SovError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`)),
    );
    app.addHook('onResponse', (req, reply, done) => {
      // The route pattern (not the URL, whose ids would make a label per agent).
      const route = req.routeOptions.url ?? 'unmatched';
      this.metrics.requests.record([req.method, route, String(reply.statusCode)], reply.elapsedTime / 1000);
      done();
    });
    if (this.rateLimit) {
      const windowMs = this.rateLimit.windowMs;
      await app.register(rateLimit, {
        max: this.rateLimit.max,
        timeWindow: windowMs,
        allowList: (req) => ['/health', '/ready', '/metrics'].includes(req.url.split('?')[0] ?? ''),
        errorResponseBuilder: (_req, ctx) =>
          Object.assign(new Error(`Too many requests: ${ctx.max} per ${Math.round(windowMs / 1000)} s; retry in ${ctx.after}`), {
            statusCode: 429,
          }),
      });
    }

    app.get('/health', (_req, reply) => reply.send({ success: true, status: 'ok' }));
    app.get('/ready', async (_req, reply) => {
      if (!this.ready) return send(reply, new SovError('NOT_READY', 'Registry is starting or stopping'));
      try {
        // A store that cannot write (disk full, database gone) makes the registry not ready, though it still reads.
        const health = this.store.health?.();
        if (health && !health.ok) return send(reply, new SovError('NOT_READY', `Registry store cannot write: ${typeof health.detail === 'string' ? health.detail : JSON.stringify(health.detail ?? 'unhealthy')}`));
        return reply.send({ success: true, status: 'ready', agents: await this.store.count() });
      } catch (e) {
        return send(reply, new SovError('NOT_READY', `Registry store unavailable: ${toSovError(e).message}`));
      }
    });
    app.get('/metrics', async (_req, reply) =>
      reply.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics()),
    );

    app.post('/v1/agents', async (req, reply) => {
      const caller = await this.caller(req, true);
      const reg = this.check<AgentRegistration>('registration', 'registration', this.body(req));
      this.actingAs(caller, reg.id);
      this.metadataSize(reg.metadata);
      const ttl = reg.ttl ?? this.opts.defaultTtlSec;
      const { agent, alive, now } = await this.agentLocks.run(reg.id, async () => {
        const now = this.clock.now();
        const previous = await this.store.get(reg.id);
        const alive = this.live(previous) !== undefined;
        // Reputation belongs to the id, not to one registration: deregistering cannot launder it.
        const standing = await this.store.getStanding(reg.id);
        const agent = registeredAgent(reg, previous, now, ttl, standing?.reputation);
        await this.store.put(agent);
        // Inside the section (here and below): one agent's events follow the order of its writes, and with a
        // shared store the event commits with the write.
        // The record rides along: a federated registry's mirror of this one applies it without reading it back.
        await this.publish(alive ? 'peer_updated' : 'peer_joined', { peer_id: reg.id, name: reg.name, capabilities: reg.capabilities, record: toRecord(agent, now) });
        return { agent, alive, now };
      });
      this.logger.info(alive ? 'agent re-registered' : 'agent registered', { agentId: reg.id, endpoint: reg.endpoint });
      return reply.code(alive ? 200 : 201).send({ success: true, agent: toRecord(agent, now), lease: { ttl, expiresAt: agent.expiresAt } });
    });

    app.post<{ Params: { id: string } }>('/v1/agents/:id/heartbeat', async (req) => {
      const caller = await this.caller(req, true);
      this.actingAs(caller, req.params.id);
      const renewed = await this.agentLocks.run(req.params.id, async () => {
        const now = this.clock.now();
        const agent = await this.store.get(req.params.id);
        if (!agent) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
        if (agent.expiresAtMs <= now) {
          throw new SovError('LEASE_EXPIRED', `The lease of ${req.params.id} expired at ${agent.expiresAt}; register again`);
        }
        const renewed = renewedAgent(agent, now);
        await this.store.put(renewed);
        return renewed;
      });
      return { success: true, lease: { ttl: renewed.ttl, expiresAt: renewed.expiresAt } };
    });

    app.delete<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
      const caller = await this.caller(req, true);
      this.actingAs(caller, req.params.id);
      const existed = await this.agentLocks.run(req.params.id, async () => {
        const existed = await this.store.delete(req.params.id);
        if (existed) await this.publish('peer_left', { peer_id: req.params.id, reason: 'deregistered' });
        return existed;
      });
      if (!existed) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
      this.logger.info('agent deregistered', { agentId: req.params.id });
      return { success: true };
    });

    app.put<{ Params: { id: string } }>('/v1/agents/:id/metadata', async (req) => {
      const caller = await this.caller(req, true);
      this.actingAs(caller, req.params.id);
      const { metadata } = this.check<{ metadata: Record<string, unknown> }>('metadata', 'metadata update', this.body(req));
      this.metadataSize(metadata);
      const updated = await this.agentLocks.run(req.params.id, async () => {
        const agent = this.live(await this.store.get(req.params.id));
        if (!agent) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
        const updated: StoredAgent = { ...agent, metadata };
        await this.store.put(updated);
        await this.publish('peer_updated', { peer_id: updated.id, fields: ['metadata'], record: toRecord(updated, this.clock.now()) });
        return updated;
      });
      return { success: true, agent: toRecord(updated, this.clock.now()) };
    });

    app.get<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
      const agent = this.live(await this.store.get(req.params.id));
      if (!agent) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
      return { success: true, agent: toRecord(agent, this.clock.now()) };
    });

    app.get('/v1/agents', { schema: { response: searchResponseSchema } }, async (req, reply) => {
      const now = this.clock.now();
      const cached = this.searchCache.get(req.url);
      if (cached && cached.generation === this.generation && cached.until > now) {
        return reply.type('application/json; charset=utf-8').serializer((body: unknown) => body as string).send(cached.body);
      }
      const search = storeSearchOf(req.query as Record<string, string | string[] | undefined>, (query) => this.check('search', 'search', query));
      const generation = this.generation;
      const page = await this.store.search(search, now);
      const serialize = reply.getSerializationFunction('200') ?? JSON.stringify;
      const body = serialize({
        success: true,
        agents: page.agents.map((a) => toRecord(a, now)),
        total: page.total,
        nextCursor: page.nextCursor,
      });
      if (this.opts.searchCacheMs > 0) {
        let until = now + this.opts.searchCacheMs;
        for (const a of page.agents) if (a.expiresAtMs < until) until = a.expiresAtMs;
        this.searchCache.delete(req.url);
        this.searchCache.set(req.url, { generation, until, body });
        if (this.searchCache.size > 1000) this.searchCache.delete(this.searchCache.keys().next().value!);
      }
      return reply.type('application/json; charset=utf-8').serializer((b: unknown) => b as string).send(body);
    });

    app.get<{ Params: { id: string } }>('/v1/stakes/:id', async (req) => ({
      success: true,
      stake: { agentId: req.params.id, stake: await this.store.getStake(req.params.id) },
    }));

    for (const op of ['credit', 'debit'] as const) {
      app.post<{ Params: { id: string } }>(`/v1/stakes/:id/${op}`, async (req) => {
        this.requireOperator(req);
        const body = this.body(req);
        const given = (body as { amount?: unknown } | null)?.amount;
        if (typeof given === 'number' && !(isAmount(given) && given > 0)) {
          throw new SovError(
            'INVALID_AMOUNT',
            `A stake ${op} must be a whole number of minor units from 1 to ${MAX_AMOUNT}; got ${given}`,
          );
        }
        const { amount } = this.check<{ amount: number }>('stake', `stake ${op}`, body);
        const stake = await this.store.adjustStake(req.params.id, op === 'credit' ? amount : -amount);
        this.logger.info(`stake ${op}ed`, { agentId: req.params.id, amount, stake });
        await this.publish('stake_changed', { peer_id: req.params.id, stake, change: op === 'credit' ? amount : -amount });
        return { success: true, stake: { agentId: req.params.id, stake } };
      });
    }

    app.post('/v1/feedback', async (req) => {
      const caller = await this.caller(req, true);
      const { receipt, rating } = this.check<{ receipt: CallReceipt; rating: number }>('feedback', 'feedback', this.body(req));
      if (caller && caller.id !== receipt.caller) {
        throw new SovError('FORBIDDEN', `Only the agent that was served (${receipt.caller}) can rate this call; the request is signed by ${caller.id}`);
      }
      if (receipt.caller === receipt.callee) throw new SovError('FORBIDDEN', 'An agent cannot rate itself');
      const at = Date.parse(receipt.at);
      if (Number.isNaN(at)) throw new ValidationError('feedback', [{ path: '/receipt/at', message: 'must be an ISO date' }]);
      if (this.clock.now() - at > this.opts.maxReceiptAgeSec * 1000) {
        throw new SovError('SIGNATURE_EXPIRED', `The receipt is from ${receipt.at}, older than ${this.opts.maxReceiptAgeSec} s`);
      }
      if (at - this.clock.now() > this.opts.maxReceiptSkewSec * 1000) {
        throw new SovError(
          'SIGNATURE_EXPIRED',
          `The receipt is dated ${receipt.at}, later than this registry's clock allows (${this.opts.maxReceiptSkewSec} s of skew)`,
        );
      }
      if (!this.opts.insecure || this.receiptVerifier) {
        if (!this.receiptVerifier) throw new SovError('UNAVAILABLE', 'This registry cannot verify receipts');
        if (!this.receiptVerifier(receipt)) {
          throw new SovError('SIGNATURE_INVALID', `The receipt ${receipt.id} is not signed by ${receipt.callee}`);
        }
      }
      // The rating counts for the id whether or not it is registered right now: leaving cannot dodge it.
      const reputation = await this.agentLocks.run(receipt.callee, async () => {
        const now = this.clock.now();
        const previous = await this.store.getStanding(receipt.callee);
        const current = await this.store.get(receipt.callee);
        if (!current && !previous) throw new SovError('NOT_FOUND', `No agent registered or rated with id ${receipt.callee}`);
        const standing = ratedStanding(previous, receipt.callee, receipt.caller, rating, now, {
          priorWeight: this.opts.reputationPriorWeight,
          maxRaters: this.opts.maxRatersPerAgent,
        });
        const agent = current ? { ...current, reputation: standing.reputation } : undefined;
        if (!(await this.store.recordFeedback({ receiptId: receipt.id, standing, ...(agent ? { agent } : {}) }))) {
          throw new SovError('CONFLICT', `The receipt ${receipt.id} has already been used for feedback`);
        }
        await this.publish('reputation_changed', { peer_id: receipt.callee, reputation: standing.reputation, rating, from: receipt.caller });
        return standing.reputation;
      });
      return { success: true, agentId: receipt.callee, reputation };
    });

    app.post<{ Params: { id: string } }>('/v1/agents/:id/requests', async (req) => {
      const caller = await this.caller(req, true);
      const request = this.check<{ service?: string; params?: unknown }>('request', 'request', this.body(req));
      const target = this.live(await this.store.get(req.params.id));
      if (!target) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
      const requestId = `${this.clock.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
      await this.publish('new_request', {
        peer_id: target.id,
        request_id: requestId,
        from: caller?.id ?? null,
        ...(request.service !== undefined ? { service: request.service } : {}),
        ...(request.params !== undefined ? { params: request.params } : {}),
      });
      return { success: true, requestId };
    });

    app.get('/v1/events', async (req, reply) => {
      const caller = await this.caller(req, false);
      const q = req.query as Record<string, string | string[] | undefined>;
      const rawTypes = q.type === undefined ? [] : Array.isArray(q.type) ? q.type : [q.type];
      const unknown = rawTypes.filter((t) => !eventTypes.has(t));
      if (unknown.length) {
        throw new ValidationError('event filter', [
          { path: '/type', message: `must be one of ${REGISTRY_EVENT_TYPES.join(', ')} (got ${unknown.join(', ')})` },
        ]);
      }
      const header = req.headers['last-event-id'];
      const lastEventId = (Array.isArray(header) ? header[0] : header) ?? (typeof q.lastEventId === 'string' ? q.lastEventId : undefined);
      const sub: Subscriber = {
        types: rawTypes.length ? new Set(rawTypes as RegistryEventType[]) : undefined,
        caller: caller?.id,
        res: reply.raw,
        lastSent: lastEventId === undefined ? 0 : Number(lastEventId),
        pending: [],
      };
      // Without Last-Event-ID a subscriber gets new events only (Last-Event-ID: 0 replays the whole window);
      // it is told where the stream stands, so that a reconnect resumes from there. Validated before the response starts.
      // Subscribed before the store is read: an event appended meanwhile waits in `pending` instead of falling between the two.
      this.subscribers.add(sub);
      let replay: { events: RegistryEvent[]; truncated: boolean };
      let position: string | undefined;
      try {
        replay = lastEventId === undefined ? { events: [], truncated: false } : await this.store.eventsAfter(lastEventId);
        position = lastEventId === undefined ? await this.store.latestEventId() : undefined;
      } catch (e) {
        this.subscribers.delete(sub);
        throw e;
      }
      if (position !== undefined) sub.lastSent = Number(position);
      // A client that left while the store was read gets no stream (its close came before the listener below).
      if (req.raw.socket.destroyed) this.subscribers.delete(sub);
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write(`retry: 1000\n${replay.truncated ? ': replay window exceeded; older events are gone\n' : ''}\n`);
      if (position !== undefined) reply.raw.write(`id: ${position}\nevent: stream_position\ndata: {}\n\n`);
      req.raw.on('close', () => this.subscribers.delete(sub));
      for (const e of replay.events) this.deliver(sub, e);
      const pending = sub.pending ?? [];
      sub.pending = undefined;
      for (const e of pending) this.deliver(sub, e);
    });
    if (this.dashboard) dashboardRoutes(app, { clock: this.clock, logger: this.logger, onEvent: (l) => this.onEvent(l) });
    a2aDirectoryRoutes(app, { store: this.store, clock: this.clock, logger: this.logger, caller: (req) => this.caller(req, false), body: (req) => this.body(req), bindHost: this.opts.host });
    if (this.federationOptions) {
      federationRoutes(app, this.federationOptions, { store: this.store, clock: this.clock, logger: this.logger, body: (req) => this.body(req), receiver: () => this.receiver, url: () => this.address,
        searchGeneration: () => this.generation, searchCacheMs: this.opts.searchCacheMs });
    }
  }
}
