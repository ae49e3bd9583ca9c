import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  DEFAULT_MAX_JSON_DEPTH,
  SovError,
  createLogger,
  receiverAuthorities,
  systemClock,
  toSovError,
  type CallReceipt,
  type Clock,
  type Logger,
  type RegistryEvent,
  type Verifier,
} from '@sov/core';
import { MemoryRegistryStore } from './memoryRegistryStore';
import type { RegistryStore } from './registryStore';
import { KeyedLock } from './internal/keyedLock';
import { wireErrorServerOptions } from './internal/wireErrorServer';
import { RegistryMetrics } from './internal/registryMetrics';
import { dashboardRoutes } from './dashboard/dashboardRoutes';
import { a2aDirectoryRoutes } from './a2a/a2aDirectory';
import { federationRoutes, type RegistryFederationOptions } from './federation/registryFederation';
import { agentRoutes } from './server/agentRoutes';
import { Authorization } from './server/authorization';
import { EventHub } from './server/eventHub';
import { eventRoutes } from './server/eventRoutes';
import { feedbackRoutes } from './server/feedbackRoutes';
import { healthRoutes } from './server/healthRoutes';
import { httpSetup } from './server/httpSetup';
import { RequestInput } from './server/requestInput';
import { requestRoutes } from './server/requestRoutes';
import type { RouteContext } from './server/routeContext';
import { SearchCache } from './server/searchCache';
import { searchRoutes } from './server/searchRoutes';
import { stakeRoutes } from './server/stakeRoutes';

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

/**
 * The registry server. Agents register with a lease (signed), renew it with
 * heartbeats, deregister, update their metadata, and find each other by
 * capability, reputation and price. Leases that are not renewed expire.
 * Events stream over SSE and resume with Last-Event-ID. Stakes are read by
 * anyone and changed by the operator; feedback backed by a signed receipt
 * moves reputation. Every input is validated: bad input gets a 4xx with a
 * stable code and changes nothing.
 *
 * It wires the parts in `server/` together: the HTTP setup, authorization,
 * input checks, the event hub, the search cache and one route module per
 * resource.
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
  /** One change at a time to each agent's record (read, change, write back); across processes too with a shared store's lockAgent. */
  private readonly agentLocks: KeyedLock;
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
  private readonly publicUrl: string | undefined;
  private readonly acceptAuthorities: string[];
  private readonly receiptVerifier: ((receipt: CallReceipt) => boolean) | undefined;
  private readonly dashboard: boolean;
  private readonly federationOptions: RegistryFederationOptions | undefined;
  private readonly rateLimit: { max: number; windowMs: number } | false;
  private readonly metrics: RegistryMetrics;
  private readonly auth: Authorization;
  private readonly input: RequestInput;
  private readonly searchCache: SearchCache;
  private readonly events: EventHub;
  private sweepTimer: unknown;
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
    this.publicUrl = options.publicUrl;
    this.acceptAuthorities = options.acceptAuthorities ?? [];
    if (this.publicUrl !== undefined && !URL.canParse(this.publicUrl)) {
      throw new SovError('INVALID_CONFIG', `RegistryServer publicUrl is not a URL: ${JSON.stringify(this.publicUrl)}`);
    }
    this.receiptVerifier = options.receiptVerifier;
    this.dashboard = options.dashboard ?? true;
    this.federationOptions = options.federation;
    this.rateLimit = options.rateLimit ?? { max: 1200, windowMs: 60_000 };
    this.store = options.store ?? new MemoryRegistryStore();
    const store = this.store;
    this.agentLocks = new KeyedLock(store.lockAgent ? (key, section) => store.lockAgent!(key, section) : undefined);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ meta: { component: 'registry' } });
    this.auth = new Authorization({ verifier: options.verifier, insecure: this.opts.insecure, operatorToken: options.operatorToken });
    this.input = new RequestInput(this.opts);
    this.searchCache = new SearchCache(this.opts.searchCacheMs);
    this.metrics = new RegistryMetrics(
      () => this.store.count(),
      () => this.events.size,
    );
    this.events = new EventHub({
      store,
      clock: this.clock,
      keepAliveMs: this.opts.keepAliveMs,
      published: this.metrics.events,
      // Every change (this replica's, or another's coming through a shared store) makes cached search answers stale.
      beforeEvent: (type) => this.searchCache.noteEvent(type),
    });
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
    return this.events.onEvent(listener);
  }

  /** Opens the store, binds the port and starts sweeping expired leases. */
  async listen(): Promise<string> {
    await this.store.open();
    this.events.followStore();
    await this.routes();
    const address = await this.app.listen({ host: this.opts.host, port: this.opts.port });
    const u = new URL(address);
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    this.auth.bindReceiver({ authorities: receiverAuthorities(`http://${host}:${u.port}`, this.publicUrl, this.acceptAuthorities) });
    if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = '127.0.0.1';
    this.address = u.toString().replace(/\/+$/, '');
    this.ready = true;
    this.scheduleSweep();
    this.events.startKeepAlive();
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
      await this.events.publish('peer_left', { peer_id: r.id, reason: 'expired' });
    }
    return gone.length;
  }

  /** Stops sweeping, ends event streams, closes every connection and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.events.close();
    await this.app.close();
    await this.store.close();
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep()
        .catch((e: unknown) => this.logger.error('sweep failed', { error: toSovError(e).message }))
        .finally(() => this.scheduleSweep());
    }, this.opts.sweepIntervalMs);
  }

  /** The shared HTTP setup first (its hooks and rate limit cover every route), then each resource's routes. */
  private async routes(): Promise<void> {
    const { app, store, clock, logger, input, auth } = this;
    await httpSetup(app, { bodyLimit: this.opts.bodyLimit, logger, requests: this.metrics.requests, rateLimit: this.rateLimit });
    healthRoutes(app, { store, ready: () => this.ready, metrics: this.metrics.registry });
    const ctx: RouteContext = { store, clock, logger, auth, input, agentLocks: this.agentLocks, events: this.events };
    agentRoutes(app, ctx, { defaultTtlSec: this.opts.defaultTtlSec });
    searchRoutes(app, ctx, this.searchCache);
    stakeRoutes(app, ctx);
    feedbackRoutes(app, ctx, { ...this.opts, receiptVerifier: this.receiptVerifier });
    requestRoutes(app, ctx);
    eventRoutes(app, ctx);
    const body = (req: FastifyRequest): unknown => input.body(req);
    if (this.dashboard) dashboardRoutes(app, { clock, logger, onEvent: (l) => this.onEvent(l) });
    a2aDirectoryRoutes(app, { store, clock, logger, caller: (req) => auth.caller(req, false), body, bindHost: this.opts.host });
    if (this.federationOptions) {
      federationRoutes(app, this.federationOptions, { store, clock, logger, body, receiver: () => auth.receiver, url: () => this.address,
        searchGeneration: () => this.searchCache.generation, searchCacheMs: this.opts.searchCacheMs });
    }
  }
}
