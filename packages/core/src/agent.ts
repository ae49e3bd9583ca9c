import { randomUUID } from 'node:crypto';
import EventEmitter from 'eventemitter3';
import type { AgentContext, Capability, PeerTransport, RegistrationContribution } from './capability';
import { systemClock, type Clock } from './clock';
import { loadConfig, type AgentConfig, type AgentConfigInput } from './config';
import { AgentEndpoint, type RequestHandler } from './endpoint';
import { abortErrorOf } from './errors/cancelledError';
import { LifecycleError } from './errors/lifecycleError';
import { createLogger, type Logger } from './logger';
import { PeerDirectory } from './internal/peerDirectory';
import { RegistrationKeeper, withDeadline } from './internal/registrationKeeper';
import { PeerClient } from './peerClient';
import type { AgentIdentity } from './ports';
import { HttpRegistryClient, type RegistryClient } from './registryClient';
import { isSovError, toSovError } from './errors/sovError';
import type { AgentRegistration, AgentRequest, CallReceipt, Lease, RpcReply, WireSuccess } from './wire';

/** The states of an agent's life. */
export type AgentState = 'created' | 'initializing' | 'initialized' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Options of an Agent: its configuration plus the parts it is built from. */
export interface AgentOptions extends AgentConfigInput {
  /** The agent's key; its id becomes the agent id and every outgoing request is signed. */
  identity?: AgentIdentity;
  /** A registry client to use instead of one built from registryUrl (a MockRegistry in tests). */
  registry?: RegistryClient;
  /** A JSON config file (SOV_CONFIG_FILE works too). */
  configFile?: string;
  /** Environment to read SOV_* from. @default process.env */
  env?: Record<string, string | undefined>;
  /** A logger to use instead of the JSON stdout one. */
  logger?: Logger;
  /** Where the default logger writes. @default process.stdout */
  logStream?: NodeJS.WritableStream;
  /** @default the system clock */
  clock?: Clock;
  /**
   * More authorities (host:port) this agent is reached at, besides its
   * publicUrl and bound address (see receiverAuthorities). A call signed by
   * authority for any other name is refused (WRONG_RECEIVER); a call that
   * names this agent's id (x-sov-receiver) is accepted whatever the Host.
   * @default []
   */
  acceptAuthorities?: string[];
  /**
   * How agent.call authenticates to peers when the agent has an identity:
   * `'session'` opens one Ed25519-signed key agreement per peer (X25519,
   * both identities bound in) and then signs each request with the session
   * key (HMAC-SHA256, RFC 9421), with the same replay and receiver checks;
   * a peer without sessions is called with per-request signatures.
   * `'per-request'` signs every request with the identity key (Ed25519).
   * The registry is always called with per-request signatures.
   * @default 'session'
   */
  callAuthentication?: 'session' | 'per-request';
  /**
   * How agent.call reaches peers (see PeerClientOptions): the transport
   * (`'mux'`, every call to a peer multiplexed on one connection, or
   * `'http'`, one HTTP/1.1 POST per call), connections per peer and HTTP/1.1
   * pipelining. @default { transport: 'mux', connectionsPerPeer: 32, pipelining: 1 }
   */
  peerConnections?: { transport?: 'mux' | 'http'; connectionsPerPeer?: number; pipelining?: number };
}

interface AgentEvents {
  state: [AgentState, AgentState];
  heartbeatError: [Error];
  registered: [Lease];
}

type Undo = { what: string; run: () => Promise<void> | void };

/** One call to a peer, as the call pipeline sees it. */
export interface PeerCall {
  /** The peer's agent id (its endpoint URL when called by URL). */
  agentId: string;
  endpoint: string;
  request: AgentRequest;
  timeoutMs?: number;
  signal?: AbortSignal;
  receipt?: boolean;
  /** false: this call must not be answered from a cache (CallOptions.cache). */
  cache?: boolean;
}

/** Sends one call to a peer; capabilities wrap it (ctx.wrapPeerCalls). */
export type PeerCaller = (call: PeerCall) => Promise<WireSuccess<RpcReply>>;

/** Which agent to call when not naming one: the best-ranked match of the query. */
export interface CallQuery {
  /** Every one must match. */
  capabilities?: string[];
  /** Shorthand for one capability. */
  capability?: string;
  minReputation?: number;
  /** Highest price per call of the service being called. */
  maxPrice?: number;
  /**
   * Search every registry a federation capability knows, not only this
   * agent's own (needs a capability that adds a target resolver, such as
   * `@sov/federation`; without one, the query is refused).
   */
  federated?: boolean;
}

/** One peer a query resolved to: its id (the signature's receiver) and endpoint URL. */
export interface CallTarget {
  id: string;
  endpoint: string;
}

/**
 * Resolves agent.call's query targets (see AgentContext.addTargetResolver):
 * the candidates in the order to try them, or undefined to leave the query
 * to the next resolver and, last, to the agent's own registry search.
 */
export type TargetResolver = (query: CallQuery, service: string, limit: number) => Promise<CallTarget[] | undefined>;

/** Options of agent.call. */
export interface CallOptions {
  /** Deadline of the call in ms (of each attempt, when a capability retries): connect, headers and the whole reply body. @default twice the config's requestTimeoutMs */
  timeoutMs?: number;
  /**
   * The caller's signal: aborting it ends the call with CANCELLED (never
   * failed over to the next match, never retried); an already aborted signal
   * rejects at once without sending anything.
   */
  signal?: AbortSignal;
  /** For a query target: how many matching agents to try when one is unreachable. @default 3 */
  failover?: number;
  /** Ask the callee for a signed receipt (for feedback). @default false for call(), true for callDetailed() */
  receipt?: boolean;
  /**
   * `false` skips every answer cache for this call: a caller-side cache
   * (`@sov/services`' callCache) sends it and keeps the fresh answer, and
   * asks the callee's router to run the handler again. @default true
   */
  cache?: boolean;
}

/** What agent.callDetailed returns. */
export interface CallOutcome<T> {
  result: T;
  /** The agent that served the call. */
  agentId: string;
  endpoint: string;
  /** Proof of service signed by the callee, when both sides have identities: use it for feedback. */
  receipt: CallReceipt | undefined;
  /** The callee's own measure of the handler's time, in ms, when it reports one. */
  executionTime: number | undefined;
}

const FAILOVER_CODES = new Set(['NETWORK_ERROR', 'CIRCUIT_OPEN', 'SHUTTING_DOWN', 'UNAVAILABLE', 'TIMEOUT', 'BULKHEAD_FULL']);

const CONFIG_KEYS: ReadonlyArray<keyof AgentConfig> = [
  'name', 'agentId', 'registryUrl', 'host', 'port', 'publicUrl', 'logLevel', 'leaseTtlSec',
  'heartbeatIntervalMs', 'requestTimeoutMs', 'shutdownTimeoutMs', 'bodyLimit', 'capabilities', 'metadata', 'allowAnonymous',
];

/**
 * The agent kernel: lifecycle (initialize → start → shutdown), configuration,
 * logging, the registry lease and the HTTP endpoint. Everything else plugs in
 * as a capability with `agent.use()`.
 *
 * @example
 * const agent = new Agent({ name: 'analyst', registryUrl: 'http://127.0.0.1:7000', capabilities: ['analyse'] });
 * agent.handle(async (req) => ({ result: analyse(req.params) }));
 * await agent.start();
 * process.on('SIGTERM', () => void agent.shutdown());
 */
export class Agent {
  private readonly options: AgentOptions;
  private readonly capabilities: Array<Capability<unknown>> = [];
  private readonly lifecycleEvents = new EventEmitter<AgentEvents>();
  private readonly contributors: Array<() => RegistrationContribution> = [];
  private readonly clock: Clock;
  private currentState: AgentState = 'created';
  private cfg: AgentConfig | undefined;
  private log: Logger | undefined;
  private endpointInstance: AgentEndpoint | undefined;
  private registryClient: RegistryClient | undefined;
  private peerClient: PeerClient | undefined;
  private peerCallWrappers: Array<(next: PeerCaller) => PeerCaller> = [];
  private readonly peerTransports: PeerTransport[] = [];
  private peerCaller: PeerCaller | undefined;
  private readonly directory: PeerDirectory;
  private readonly keeper: RegistrationKeeper;
  private requestHandler: RequestHandler | undefined;
  private readonly requestHandlerWrappers: Array<(next: RequestHandler) => RequestHandler> = [];
  private initialized: Array<Capability<unknown>> = [];
  private undo: Undo[] = [];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private agentId: string;

  constructor(options: AgentOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.agentId = options.identity?.id ?? options.agentId ?? `urn:sov:anon:${randomUUID()}`;
    this.directory = new PeerDirectory(this.clock, () => this.agentId, () => this.registryClient);
    this.keeper = new RegistrationKeeper({
      clock: this.clock,
      agentId: () => this.agentId,
      config: () => this.config,
      logger: () => this.logger,
      registry: () => this.registryClient,
      record: () => this.registration(),
      live: () => this.currentState === 'running' || this.currentState === 'starting',
      running: () => this.currentState === 'running',
      registered: (lease) => this.lifecycleEvents.emit('registered', lease),
      heartbeatError: (error) => this.lifecycleEvents.emit('heartbeatError', error),
    });
  }

  /** The agent's current lifecycle state. */
  get state(): AgentState {
    return this.currentState;
  }

  /** The agent id: the identity's when there is one. */
  get id(): string {
    return this.agentId;
  }

  /** The published endpoint URL, once listening. */
  get url(): string | undefined {
    return this.endpointInstance?.url;
  }

  /** Whether the registry holds a live lease for this agent. */
  get isRegistered(): boolean {
    return this.keeper.registered;
  }

  /**
   * Sends the registry this agent's record again now (capabilities, services
   * and metadata as contributors give them at this moment), e.g. after a
   * service was added at run time. Calls made in the same tick share one
   * registration; a call made while one is on its way gets the next. Resolves
   * at once when the agent is not registered: its coming registration (at
   * start, or after a lost lease) carries the change.
   *
   * @example
   * services.register({ name: 'summarise', handler });
   * await agent.refreshRegistration(); // searchable now, not at the next lease renewal
   */
  refreshRegistration(): Promise<void> {
    return this.keeper.refresh();
  }

  /** The validated configuration (after initialize). */
  get config(): AgentConfig {
    if (!this.cfg) throw new LifecycleError('Agent config is available after initialize()');
    return this.cfg;
  }

  /** The agent's logger (after initialize). */
  get logger(): Logger {
    if (!this.log) throw new LifecycleError('Agent logger is available after initialize()');
    return this.log;
  }

  /** The registry client, if the agent has a registry (after initialize). */
  get registry(): RegistryClient | undefined {
    return this.registryClient;
  }

  /** A client for calling other agents, signing with this agent's identity. */
  get peers(): PeerClient {
    if (!this.peerClient) {
      const identity = this.options.identity;
      const sessions = this.options.callAuthentication === 'per-request' ? undefined : identity?.createSessionAuthenticator?.();
      const pool = this.options.peerConnections;
      this.peerClient = new PeerClient({
        ...(identity ? { signer: identity.signer } : {}),
        ...(sessions ? { sessions } : {}),
        ...(this.cfg ? { timeoutMs: this.cfg.requestTimeoutMs * 2 } : {}),
        ...(pool?.connectionsPerPeer !== undefined ? { connectionsPerPeer: pool.connectionsPerPeer } : {}),
        ...(pool?.pipelining !== undefined ? { pipelining: pool.pipelining } : {}),
        ...(pool?.transport !== undefined ? { transport: pool.transport } : {}),
      });
    }
    return this.peerClient;
  }

  /**
   * Calls a service of another agent: `target` is an agent id, an endpoint
   * URL, or a query (capability, min reputation, max price) that the registry
   * answers with the best-ranked match. The request is signed when the agent
   * has an identity and goes through the call pipeline (retries, breakers).
   * Throws a SovError carrying the remote code on failure.
   *
   * @example
   * const summary = await agent.call<{ text: string }>({ capability: 'summarise', maxPrice: 5 }, 'summarise', { text });
   */
  async call<T = unknown>(target: string | CallQuery, service: string, params?: unknown, options: CallOptions = {}): Promise<T> {
    return (await this.callDetailed<T>(target, service, params, { receipt: false, ...options })).result;
  }

  /** Like call(), but also returns who served the call, its receipt and its execution time. */
  async callDetailed<T = unknown>(
    target: string | CallQuery,
    service: string,
    params?: unknown,
    options: CallOptions = {},
  ): Promise<CallOutcome<T>> {
    if (this.currentState !== 'running' && this.currentState !== 'initialized') {
      throw new LifecycleError(`Cannot call peers in state ${this.currentState}; start the agent first`);
    }
    const signal = options.signal;
    if (signal?.aborted) throw abortErrorOf(signal, `Call of ${service}`);
    const request: AgentRequest = params === undefined ? { service } : { service, params };
    const candidates = await this.directory.resolve(target, service, options.failover ?? 3);
    let lastError: unknown;
    for (const peer of candidates) {
      if (signal?.aborted) throw abortErrorOf(signal, `Call of ${service}`);
      try {
        const reply = await this.pipeline()({
          agentId: peer.id,
          endpoint: peer.endpoint,
          request,
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(signal ? { signal } : {}),
          receipt: options.receipt ?? true,
          ...(options.cache === false ? { cache: false } : {}),
        });
        const executionTime = typeof reply.execution_time === 'number' ? reply.execution_time : undefined;
        return {
          result: reply.result as T,
          agentId: peer.id,
          endpoint: peer.endpoint,
          receipt: reply.receipt as CallReceipt | undefined,
          executionTime,
        };
      } catch (e) {
        // The caller's own abort ends the call: never failed over, and CANCELLED whatever layer reported it.
        if (signal?.aborted) throw isSovError(e) ? e : abortErrorOf(signal, `Call of ${service} to ${peer.endpoint}`);
        lastError = e;
        if (typeof target === 'string' || !(isSovError(e) && FAILOVER_CODES.has(e.code))) throw e;
        this.log?.warn('peer unreachable; trying the next match', { peer: peer.id, code: e.code });
      }
    }
    throw lastError;
  }

  private pipeline(): PeerCaller {
    if (!this.peerCaller) {
      let caller: PeerCaller = (call) => {
        // Another protocol's endpoint (an A2A card URL) goes through its transport, inside every wrapper.
        for (const transport of this.peerTransports) if (transport.handles(call.endpoint)) return transport.call(call);
        return this.peers.call(call.endpoint, call.request, {
          ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}),
          ...(call.signal ? { signal: call.signal } : {}),
          ...(call.receipt ? { receipt: true } : {}),
          // Called by id (not by URL): the signature names the receiver, so no other agent accepts it.
          ...(call.agentId !== call.endpoint ? { receiver: call.agentId } : {}),
        });
      };
      for (const wrap of this.peerCallWrappers) caller = wrap(caller);
      this.peerCaller = caller;
    }
    return this.peerCaller;
  }

  /** Adds a capability and returns its API. Only before initialize. */
  use<TApi>(capability: Capability<TApi>): TApi {
    if (this.currentState !== 'created') {
      throw new LifecycleError(`Cannot use capability "${capability.name}" in state ${this.currentState}; add capabilities before start()`);
    }
    if (this.capabilities.some((c) => c.name === capability.name)) {
      throw new LifecycleError(`Capability "${capability.name}" is already in use`);
    }
    this.capabilities.push(capability);
    return capability.api;
  }

  /** Sets the handler of the agent's request route (`POST /rpc`). */
  handle(handler: RequestHandler): void {
    this.requestHandler = handler;
    this.endpointInstance?.setRequestHandler(this.wrappedHandler(handler));
  }

  private wrappedHandler(handler: RequestHandler): RequestHandler {
    let wrapped = handler;
    for (const wrap of this.requestHandlerWrappers) wrapped = wrap(wrapped);
    return wrapped;
  }

  /** Subscribes to state changes; returns a function that unsubscribes. */
  onStateChange(listener: (state: AgentState, previous: AgentState) => void): () => void {
    this.lifecycleEvents.on('state', listener);
    return () => this.lifecycleEvents.off('state', listener);
  }

  /** Subscribes to heartbeat failures; returns a function that unsubscribes. */
  onHeartbeatError(listener: (error: Error) => void): () => void {
    this.lifecycleEvents.on('heartbeatError', listener);
    return () => this.lifecycleEvents.off('heartbeatError', listener);
  }

  /** Subscribes to each successful (re-)registration; returns a function that unsubscribes. */
  onRegistered(listener: (lease: Lease) => void): () => void {
    this.lifecycleEvents.on('registered', listener);
    return () => this.lifecycleEvents.off('registered', listener);
  }

  /** Loads config, builds logger, registry client and endpoint, and initializes every capability. */
  async initialize(): Promise<void> {
    if (this.currentState === 'initialized') return;
    if (this.currentState !== 'created' && this.currentState !== 'failed') {
      throw new LifecycleError(`Cannot initialize in state ${this.currentState}`);
    }
    this.setState('initializing');
    try {
      await this.doInitialize();
      this.setState('initialized');
    } catch (e) {
      await this.rollback();
      this.setState('failed');
      throw e;
    }
  }

  /**
   * Starts the agent: initialize if needed, start capabilities, listen, register,
   * heartbeat. Safe to call twice. A failure rolls back every step already taken.
   */
  start(): Promise<void> {
    if (this.currentState === 'running') return Promise.resolve();
    if (this.starting) return this.starting;
    if (this.currentState === 'stopping' || this.currentState === 'stopped') {
      return Promise.reject(new LifecycleError(`Cannot start an agent in state ${this.currentState}; create a new Agent`));
    }
    this.starting = this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /**
   * Graceful shutdown: stop intake, deregister, drain in-flight requests, shut
   * capabilities down in reverse, close the endpoint. Bounded by
   * `shutdownTimeoutMs`; safe to call twice.
   */
  shutdown(reason = 'requested'): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.starting) await this.starting.catch(() => undefined);
      if (this.currentState !== 'running' && this.currentState !== 'initialized') {
        if (this.currentState !== 'stopped') this.setState('stopped');
        return;
      }
      await this.doShutdown(reason);
    })();
    return this.stopping;
  }

  /**
   * Shuts down gracefully on SIGTERM and SIGINT, then exits (code 0, or 1 when
   * shutdown failed). Returns a function that removes the handlers.
   */
  shutdownOnSignals(options: { signals?: NodeJS.Signals[]; exit?: boolean } = {}): () => void {
    const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
    const onSignal = (signal: NodeJS.Signals) => {
      this.log?.info('signal received, shutting down', { signal });
      this.shutdown(signal).then(
        () => options.exit !== false && process.exit(0),
        () => options.exit !== false && process.exit(1),
      );
    };
    for (const s of signals) process.once(s, onSignal);
    return () => signals.forEach((s) => process.off(s, onSignal));
  }

  private setState(next: AgentState): void {
    const previous = this.currentState;
    this.currentState = next;
    this.log?.debug('state changed', { from: previous, to: next });
    this.lifecycleEvents.emit('state', next, previous);
  }

  private async doInitialize(): Promise<void> {
    const optionConfig: AgentConfigInput = {};
    for (const k of CONFIG_KEYS) {
      if (this.options[k] !== undefined) (optionConfig as Record<string, unknown>)[k] = this.options[k];
    }
    const cfg = await loadConfig({
      options: optionConfig,
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(this.options.configFile ? { file: this.options.configFile } : {}),
    });
    this.cfg = cfg;
    if (!this.options.identity && cfg.agentId) this.agentId = cfg.agentId;
    this.log = (
      this.options.logger ??
      createLogger({ level: cfg.logLevel, ...(this.options.logStream ? { stream: this.options.logStream } : {}) })
    ).child({ agent: cfg.name, agentId: this.agentId });

    this.registryClient =
      this.options.registry ??
      (cfg.registryUrl
        ? new HttpRegistryClient({
            baseUrl: cfg.registryUrl,
            timeoutMs: cfg.requestTimeoutMs,
            ...(this.options.identity ? { signer: this.options.identity.signer } : {}),
          })
        : undefined);

    const endpoint = new AgentEndpoint({
      host: cfg.host,
      port: cfg.port,
      bodyLimit: cfg.bodyLimit,
      logger: this.log,
      ...(cfg.publicUrl ? { publicUrl: cfg.publicUrl } : {}),
      ...(this.options.acceptAuthorities ? { acceptAuthorities: this.options.acceptAuthorities } : {}),
    });
    this.endpointInstance = endpoint;
    if (this.requestHandler) endpoint.setRequestHandler(this.wrappedHandler(this.requestHandler));
    const verifier = this.options.identity?.createVerifier?.();
    if (verifier) {
      endpoint.setVerifier(verifier, {
        allowAnonymous: cfg.allowAnonymous,
        ...(this.options.identity ? { receiverId: this.options.identity.id } : {}),
      });
    }
    const identity = this.options.identity;
    if (identity?.signReceipt) endpoint.setReceiptSigner(identity.id, (r) => identity.signReceipt!(r));
    else if (this.options.identity) this.log.warn('identity has no verifier: incoming calls are not authenticated');
    endpoint.addReadinessCheck('registry', () =>
      this.registryClient ? { ok: this.keeper.registered, detail: this.keeper.registered ? 'registered' : 'not registered' } : true,
    );
    endpoint.addReadinessCheck('lifecycle', () => ({ ok: this.currentState === 'running', detail: this.currentState }));

    const ctx = this.context();
    this.initialized = [];
    this.undo.push({ what: 'shut capabilities down', run: () => this.shutdownCapabilities(Infinity) });
    for (const cap of this.capabilities) {
      try {
        await cap.initialize?.(ctx);
      } catch (cause) {
        throw new LifecycleError(`Capability "${cap.name}" failed to initialize: ${toSovError(cause).message}`, {
          cause,
          code: 'CAPABILITY_FAILED',
        });
      }
      this.initialized.push(cap);
    }
  }

  private async doStart(): Promise<void> {
    if (this.currentState !== 'initialized') await this.initialize();
    this.setState('starting');
    const ctx = this.context();
    try {
      for (const cap of this.capabilities) {
        try {
          await cap.start?.(ctx);
        } catch (cause) {
          throw new LifecycleError(`Capability "${cap.name}" failed to start: ${toSovError(cause).message}`, {
            cause,
            code: 'CAPABILITY_FAILED',
          });
        }
      }
      const endpoint = this.endpointInstance!;
      const url = await endpoint.listen();
      this.undo.push({ what: 'close the endpoint', run: () => endpoint.close() });
      this.log!.info('listening', { url });

      if (this.registryClient) {
        await this.keeper.register();
        this.undo.push({ what: 'deregister', run: () => this.keeper.deregister() });
        this.keeper.startHeartbeat();
        this.undo.push({ what: 'stop the heartbeat', run: () => this.keeper.stopHeartbeat() });
      }
      for (const cap of this.capabilities) {
        try {
          await cap.ready?.(ctx);
        } catch (cause) {
          throw new LifecycleError(`Capability "${cap.name}" failed when ready: ${toSovError(cause).message}`, {
            cause,
            code: 'CAPABILITY_FAILED',
          });
        }
      }
      this.undo = [];
      this.setState('running');
    } catch (e) {
      this.log?.error('start failed; rolling back', { error: toSovError(e).message });
      await this.rollback();
      this.setState('failed');
      throw e;
    }
  }

  private async rollback(): Promise<void> {
    const steps = this.undo.reverse();
    this.undo = [];
    for (const step of steps) {
      try {
        await step.run();
      } catch (e) {
        this.log?.warn(`rollback step failed: ${step.what}`, { error: toSovError(e).message });
      }
    }
  }

  private async doShutdown(reason: string): Promise<void> {
    const cfg = this.config;
    const log = this.logger;
    const endpoint = this.endpointInstance!;
    const deadline = this.clock.now() + cfg.shutdownTimeoutMs;
    const left = () => Math.max(0, deadline - this.clock.now());
    this.setState('stopping');
    log.info('shutting down', { reason, inFlight: endpoint.inFlight });
    endpoint.stopIntake();
    this.keeper.stopHeartbeat();
    try {
      await withDeadline(
        (async () => {
          // Leave the registry first so no peer finds us while we drain.
          const leaving = this.keeper.deregister().catch((e: unknown) =>
            log.warn('deregistration failed', { error: toSovError(e).message }),
          );
          const drained = await endpoint.drain(left());
          if (!drained) {
            log.warn('in-flight requests did not finish before the shutdown deadline; aborting them', { inFlight: endpoint.inFlight });
            endpoint.abortInFlight('Shutdown deadline reached');
          }
          await leaving;
          await this.shutdownCapabilities(left());
          await endpoint.close();
          await this.peerClient?.close();
        })(),
        cfg.shutdownTimeoutMs,
        'Graceful shutdown',
      );
      log.info('stopped', { reason });
    } catch (e) {
      log.error('shutdown did not finish in time; forcing close', { error: toSovError(e).message });
      endpoint.abortInFlight('Shutdown deadline reached');
      await endpoint.close().catch(() => undefined);
    } finally {
      this.setState('stopped');
    }
  }

  private async shutdownCapabilities(budgetMs: number): Promise<void> {
    const ctx = this.context();
    const list = this.initialized.reverse();
    this.initialized = [];
    const deadline = this.clock.now() + budgetMs;
    for (const cap of list) {
      if (!cap.shutdown) continue;
      try {
        const left = Math.max(0, deadline - this.clock.now());
        const work = Promise.resolve(cap.shutdown(ctx, left));
        await (Number.isFinite(budgetMs) ? withDeadline(work, left, `Capability "${cap.name}" shutdown`) : work);
      } catch (e) {
        this.log?.warn('capability shutdown failed', { capability: cap.name, error: toSovError(e).message });
      }
    }
  }

  private registration(): AgentRegistration {
    const cfg = this.config;
    const capabilities = new Set(cfg.capabilities);
    const services = [];
    let metadata: Record<string, unknown> = { ...cfg.metadata, ...(this.options.identity?.registrationMetadata?.() ?? {}) };
    for (const contribute of this.contributors) {
      const c = contribute();
      for (const cap of c.capabilities ?? []) capabilities.add(cap);
      services.push(...(c.services ?? []));
      metadata = { ...metadata, ...c.metadata };
    }
    return {
      id: this.agentId,
      name: cfg.name,
      endpoint: this.endpointInstance!.url!,
      capabilities: [...capabilities],
      services,
      metadata,
      ttl: cfg.leaseTtlSec,
    };
  }

  private context(): AgentContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context reads the agent's live fields
    const agent = this;
    return {
      agent,
      get agentId() {
        return agent.agentId;
      },
      get config() {
        return agent.config;
      },
      get logger() {
        return agent.logger;
      },
      clock: this.clock,
      identity: this.options.identity,
      get registry() {
        return agent.registryClient;
      },
      setRegistry: (client) => {
        this.registryClient = client;
      },
      endpoint: this.endpointInstance!,
      setRequestHandler: (handler) => this.handle(handler),
      contributeRegistration: (contributor) => {
        this.contributors.push(contributor);
      },
      refreshRegistration: () => this.refreshRegistration(),
      metrics: this.endpointInstance!.metrics,
      wrapPeerCalls: (wrapper) => {
        this.peerCallWrappers.push(wrapper);
        this.peerCaller = undefined;
      },
      addPeerTransport: (transport) => {
        this.peerTransports.push(transport);
        this.peerCaller = undefined;
      },
      addTargetResolver: (resolver) => {
        this.directory.resolvers.push(resolver);
      },
      handleRequest: (request, context) => this.endpointInstance!.dispatch(request, context),
      wrapRequestHandler: (wrapper) => {
        this.requestHandlerWrappers.push(wrapper);
        if (this.requestHandler) this.endpointInstance?.setRequestHandler(this.wrappedHandler(this.requestHandler));
      },
    };
  }
}
