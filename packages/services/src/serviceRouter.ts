import { performance } from 'node:perf_hooks';
import {
  SovError,
  ValidationError,
  isSovError,
  toSovError,
  type AgentContext,
  type AgentRequest,
  type Capability,
  type Clock,
  type FieldProblem,
  type Logger,
  type RegistrationContribution,
  type VerifiedCaller,
  type WireFailure,
} from '@sov/core';
import { DeadlineQueue, ajvProblems, createAjv } from '@sov/core/internal';
import type Ajv from 'ajv';
import { AgentBinding } from './internal/agentBinding';
import { compileService, type CompiledService } from './internal/compiledService';
import { answer, invalidInput, refusal, type Refusal } from './internal/refusal';
import { cacheKeyOf, cacheTerms, storeAnswer } from './internal/routerCache';
import { checkStake } from './internal/stakeGate';
import { checkStandard } from './internal/standardSchema';
import { ServiceCall } from './internal/serviceCall';
import { StakeCache } from './internal/stakeCache';
import type { CacheTerms, HandlerParams, HandlerResult, ServiceDefinition } from './serviceDefinition';
import type { JsonSchema, ServiceSchema } from './serviceSchema';
import { ServiceMetrics, type ServiceMetricsSnapshot } from './serviceMetrics';
import './errors/servicesErrorCodes'; // registers this package's error codes with core, also when this file is loaded without the index

/** Options of a ServiceRouter. */
export interface ServiceRouterOptions {
  /** Time budget of a call for services that set none, in ms; 0 turns it off. @default 30000 */
  defaultTimeoutMs?: number;
  /** Calls served at once for services that set no limit. @default Infinity */
  defaultMaxConcurrency?: number;
  /**
   * Reads a caller's stake. @default the agent's registry (`getStake`); a
   * standalone router without it answers UNAVAILABLE for stake-gated services
   */
  getStake?: (agentId: string) => Promise<number>;
  /** How long a caller's stake is trusted before it is read again, in ms; 0 reads it every call. @default 5000 */
  stakeCacheTtlMs?: number;
  /** Most callers whose stake is kept at once. @default 10000 */
  stakeCacheSize?: number;
  /** List each service's name among the agent's capabilities, so a search by capability finds it. @default true */
  advertiseCapabilities?: boolean;
  /** Path of the unsigned catalog route on the agent's endpoint. @default '/catalog' */
  catalogPath?: string;
  /** Send a failing handler's error message to the caller (HANDLER_FAILED); else only "Service x failed". @default true */
  exposeHandlerErrors?: boolean;
  /** Prefix of the metric names. @default 'sov_service_' */
  metricsPrefix?: string;
  /** @default the agent's clock, or the system clock standalone */
  clock?: Clock;
  /** @default the agent's logger, or a silent one standalone */
  logger?: Logger;
}

/** A call to a service: the guide's request dict. Core's AgentRequest fits. */
export interface ServiceRequest {
  /** The service to call. */
  service?: unknown;
  /** Checked against the service's input schema. @default {} */
  params?: unknown;
  [key: string]: unknown;
}

/** What handleRequest hands the router about the call: core's RequestContext fits; every field is optional. */
export interface ServiceRequestContext {
  /** The verified caller: stake is checked against it. Never taken from the request body. */
  caller?: VerifiedCaller | undefined;
  /** Aborts the handler's signal when aborted (the caller went away). */
  signal?: AbortSignal;
  requestId?: string;
  logger?: Logger;
}

/** A successful call, as the guide answers it. `execution_time` is in ms. */
export type ServiceSuccess<TResult = unknown> = {
  success: true;
  service: string;
  result: TResult;
  /** Time from routing to the checked result, in ms. */
  execution_time: number;
  /** For a cacheable service: how long the answer stays fresh and for whom (absent when it must not be reused). */
  cache?: CacheTerms;
};

/** What handleRequest answers: a success, or the wire failure with its stable code. */
export type ServiceResponse<TResult = unknown> = ServiceSuccess<TResult> | WireFailure;

/** One service in the catalog. */
export interface ServiceCatalogEntry {
  name: string;
  description: string;
  inputSchema?: JsonSchema;
  outputSchema?: JsonSchema;
  requiresStake: boolean;
  minStake: number;
  price?: number;
  /** Absent when the service has no time budget. */
  timeoutMs?: number;
  /** Absent when unlimited. */
  maxConcurrency?: number;
  /** Present when the service's answers may be reused: for how long, and whether they depend on the caller. */
  cache?: { ttlMs: number; perCaller: boolean };
  metrics: ServiceMetricsSnapshot;
}

/**
 * Routes calls to named services (the guide's MultiServiceAgent): checks the
 * caller's stake, validates params and results against schemas compiled once
 * (every bad field listed), bounds time and concurrency, and counts each
 * service's requests, failures and latency. Use it through an agent with
 * `agent.use(serviceRouter())`, or standalone with `handleRequest`.
 *
 * Each failure has its code: SERVICE_NAME_MISSING, SERVICE_NOT_FOUND,
 * TOO_MANY_IN_FLIGHT, UNAUTHORIZED (anonymous caller, stake-gated service),
 * INSUFFICIENT_STAKE, UNAVAILABLE (stake unreadable), INVALID_INPUT,
 * HANDLER_FAILED (or the code of a SovError the handler threw), TIMEOUT,
 * OUTPUT_INVALID.
 *
 * @example
 * const router = new ServiceRouter();
 * router.register({ name: 'echo', handler: async (p) => p, inputSchema: { type: 'object' } });
 * const reply = await router.handleRequest({ service: 'echo', params: { text: 'hi' } });
 * if (reply.success) console.log(reply.result);
 */
export class ServiceRouter {
  /** Registered services by name, in registration order. */
  private readonly byName = new Map<string, CompiledService>();
  private readonly ajv: Ajv;
  private readonly options: ServiceRouterOptions;
  private readonly defaults: { timeoutMs: number; maxConcurrency: number };
  private readonly stakes: StakeCache;
  private readonly deadlineQueues: DeadlineQueue[] = [];
  /** The agent side: clock, logger, stakes from the registry, the registry record, attach's wiring. */
  private readonly agent: AgentBinding;
  /** The clock the router reads: the binding's, which delegates to the agent's once attached. */
  private readonly clock: Clock;
  /** The per-service metrics (also in the agent's `/metrics` once attached). */
  readonly metrics: ServiceMetrics;

  constructor(options: ServiceRouterOptions = {}) {
    this.options = options;
    this.ajv = createAjv();
    this.agent = new AgentBinding(options, this.byName);
    this.clock = this.agent.clock;
    const timeoutMs = options.defaultTimeoutMs ?? 30_000;
    const maxConcurrency = options.defaultMaxConcurrency ?? Infinity;
    const problems = [];
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) problems.push({ path: '/defaultTimeoutMs', message: 'must be a finite number >= 0' });
    if (!(maxConcurrency === Infinity || (Number.isInteger(maxConcurrency) && maxConcurrency >= 1))) {
      problems.push({ path: '/defaultMaxConcurrency', message: 'must be an integer >= 1 or Infinity' });
    }
    const ttl = options.stakeCacheTtlMs ?? 5000;
    const size = options.stakeCacheSize ?? 10_000;
    if (!(Number.isFinite(ttl) && ttl >= 0)) problems.push({ path: '/stakeCacheTtlMs', message: 'must be a finite number >= 0' });
    if (!(Number.isInteger(size) && size >= 1)) problems.push({ path: '/stakeCacheSize', message: 'must be an integer >= 1' });
    if (problems.length > 0) throw new ValidationError('ServiceRouter options', problems);
    this.defaults = { timeoutMs, maxConcurrency };
    this.stakes = new StakeCache((id) => this.agent.readStake(id), this.clock, ttl, size);
    this.metrics = new ServiceMetrics(options.metricsPrefix === undefined ? {} : { prefix: options.metricsPrefix });
  }

  /** The names of the registered services, in registration order. */
  get services(): string[] {
    return [...this.byName.keys()];
  }

  private get logger(): Logger {
    return this.agent.logger;
  }

  /**
   * Registers a service. Its schemas are compiled here, once. Refuses a
   * duplicate name (CONFLICT) and a bad definition or schema (INVALID_INPUT,
   * every problem listed). A service registered after the agent has started
   * is served and in the catalog at once, and sent to the registry right
   * away (`await agent.refreshRegistration()` to wait until it is searchable).
   *
   * The handler's params and result types come from the schemas when they
   * are written `as const` (json-schema-to-ts reads them) or are Standard
   * Schema validators; type arguments (`register<Params, Result>`) override
   * them; with neither, params are `unknown`.
   *
   * @example
   * router.register({
   *   name: 'count_words',
   *   inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as const,
   *   outputSchema: { type: 'object', properties: { words: { type: 'integer' } }, required: ['words'] } as const,
   *   price: 1,
   *   handler: async ({ text }) => ({ words: text.split(/\s+/).filter(Boolean).length }), // text: string
   * });
   */
  register<
    TParams = unknown,
    TResult = unknown,
    TInput extends ServiceSchema = ServiceSchema,
    TOutput extends ServiceSchema = ServiceSchema,
  >(definition: ServiceDefinition<HandlerParams<TParams, NoInfer<TInput>>, HandlerResult<TResult, NoInfer<TOutput>>, TInput, TOutput>): this {
    const name = (definition as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string' && this.byName.has(name)) {
      throw new SovError('CONFLICT', `Service "${name}" is already registered`);
    }
    const service = compileService(definition, this.ajv, this.defaults, {
      stats: (n) => this.metrics.track(n),
      deadlines: () => {
        const q = new DeadlineQueue(this.clock);
        this.deadlineQueues.push(q);
        return q;
      },
    });
    if (service.cache) service.stats.cache ??= { hits: 0, misses: 0, evictions: 0 };
    this.byName.set(service.name, service);
    this.agent.registered(service);
    return this;
  }

  /** The guide's name for `register` (the same method, typed the same). */
  get registerService(): this['register'] {
    return this.register.bind(this);
  }

  /**
   * Serves one call and answers the guide's way: `{ success: true, service,
   * result, execution_time }`, or `{ success: false, error: { code, message,
   * details? } }`. Never throws.
   *
   * @example
   * const reply = await router.handleRequest({ service: 'process_data', params }, { caller });
   * if (!reply.success) console.warn(reply.error.code);
   */
  handleRequest<TResult = unknown>(request: ServiceRequest | AgentRequest, context?: ServiceRequestContext): Promise<ServiceResponse<TResult>> {
    return this.serve(request, context, true) as Promise<ServiceResponse<TResult>>;
  }

  /**
   * Like handleRequest, but throws the SovError instead of answering it:
   * the agent's `/rpc` handler, which turns it into the wire failure and status.
   */
  async execute(request: ServiceRequest | AgentRequest, context?: ServiceRequestContext): Promise<ServiceSuccess> {
    const out = await this.serve(request, context, false);
    if ('success' in out && out.success) return out;
    throw out as SovError;
  }

  /**
   * The request path. Refusals are returned, not thrown (a throw costs more
   * than a small call), as the wire failure when `wire`, else as the SovError.
   */
  private async serve(
    request: ServiceRequest | AgentRequest,
    context: ServiceRequestContext | undefined,
    wire: boolean,
  ): Promise<ServiceSuccess | WireFailure | SovError> {
    const name = typeof request === 'object' && request !== null ? request.service : undefined;
    if (typeof name !== 'string' || name.length === 0) {
      return answer(wire, refusal('SERVICE_NAME_MISSING', `The request names no service: set "service" to one of ${this.nameList()}`));
    }
    const service = this.byName.get(name);
    if (service === undefined) {
      return answer(wire, refusal('SERVICE_NOT_FOUND', `Unknown service "${name.slice(0, 128)}"; this agent offers ${this.nameList()}`));
    }
    const stats = service.stats;
    stats.requests++;
    if (stats.inFlight >= service.maxConcurrency) {
      stats.fail('TOO_MANY_IN_FLIGHT', undefined);
      return answer(
        wire,
        refusal('TOO_MANY_IN_FLIGHT', `Service "${name}" is serving ${stats.inFlight} calls, its limit; retry later`, { limit: service.maxConcurrency }),
      );
    }
    stats.inFlight++;
    const started = performance.now();
    let error: SovError | Refusal | undefined;
    let result: unknown;
    /** Where this call's answer is cached; undefined when it is not cacheable. */
    let cacheKey: string | undefined;
    /** Set when the answer is (or, after the handler, becomes) a cached one. */
    let terms: CacheTerms | undefined;
    try {
      if (service.requiresStake) error = await checkStake(this.stakes, service, context?.caller);
      const params = request.params === undefined ? {} : request.params;
      // After the stake check: a cached answer is only for a caller who may call. Before input
      // validation: only valid params are ever kept, and a key names params with the same JSON,
      // which validate alike (the router's Ajv neither coerces nor fills in defaults).
      const cache = service.cache;
      if (error === undefined && cache !== undefined) {
        cacheKey = cacheKeyOf(cache, params, context?.caller);
        // `cache: 'bypass'` (callCache's opt-out): run the handler, and keep its answer for the next callers.
        if (cacheKey !== undefined) {
          const now = this.clock.now();
          const hit = request.cache === 'bypass' ? undefined : cache.answers.get(cacheKey, now);
          if (hit !== undefined) {
            stats.cache!.hits++;
            result = JSON.parse(hit.json);
            terms = cacheTerms(cache, hit.expiresAt - now);
          }
        }
      }
      let input: unknown = params;
      if (error === undefined && terms === undefined) {
        const validateInput = service.validateInput;
        if (validateInput !== undefined) {
          if (!validateInput(params)) {
            error = invalidInput(name, ajvProblems(validateInput.errors));
            cacheKey = undefined;
          }
        } else if (service.standardInput !== undefined) {
          // A Standard Schema validator runs instead of Ajv; the handler gets its output (transforms applied).
          const checked = checkStandard(service.standardInput, params);
          const outcome = checked instanceof Promise ? await checked : checked;
          if (outcome.ok) {
            input = outcome.value;
          } else {
            error = invalidInput(name, outcome.problems);
            cacheKey = undefined;
          }
        }
      }
      if (error === undefined && terms === undefined) {
        if (cacheKey !== undefined) stats.cache!.misses++;
        const call = new ServiceCall(service.name, service.timeoutMs, context, this.logger);
        try {
          const answered = service.timeoutMs === Infinity ? service.handler(input, call) : this.bounded(service, input, call);
          result = isThenable(answered) ? await answered : answered;
        } catch (e) {
          error = this.handlerError(service, e);
        } finally {
          if (call.deadline !== 0) service.deadlines.finish(call);
          call.release();
        }
      }
      if (error === undefined && terms === undefined) {
        const validateOutput = service.validateOutput;
        if (validateOutput !== undefined) {
          if (!validateOutput(result)) error = this.outputInvalid(name, ajvProblems(validateOutput.errors));
        } else if (service.standardOutput !== undefined) {
          // What is sent is the result as returned (the wire form); the validator only checks it.
          const checked = checkStandard(service.standardOutput, result);
          const outcome = checked instanceof Promise ? await checked : checked;
          if (!outcome.ok) error = this.outputInvalid(name, outcome.problems);
        }
      }
    } catch (e) {
      // Only a bug of ours gets here; answer it like any other failure.
      error = toSovError(e);
    } finally {
      stats.inFlight--;
    }
    const elapsed = performance.now() - started;
    if (error !== undefined) {
      stats.fail(error.code, elapsed / 1000);
      return answer(wire, error);
    }
    stats.succeed(elapsed / 1000);
    if (cacheKey !== undefined && terms === undefined) terms = storeAnswer(service, cacheKey, result, this.clock);
    return terms === undefined
      ? { success: true, service: name, result, execution_time: elapsed }
      : { success: true, service: name, result, execution_time: elapsed, cache: terms };
  }

  /** OUTPUT_INVALID listing every bad field; logged, since it is the service's bug, not the caller's. */
  private outputInvalid(name: string, problems: FieldProblem[]): Refusal {
    this.logger.error('service output breaks its schema', { service: name, problems });
    return refusal('OUTPUT_INVALID', `Service "${name}" answered with output that breaks its schema: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  }

  /**
   * Forgets cached answers: of one service, or of every service. Call it when
   * what a cacheable service answers has changed before its TTL ran out.
   * (Callers' own caches keep what they hold until its TTL.)
   */
  clearCache(service?: string): void {
    for (const s of this.byName.values()) if (service === undefined || s.name === service) s.cache?.answers.clear();
  }

  /**
   * The services on offer: name, description, schemas, stake terms, price,
   * limits and metrics. Served at `GET /catalog` by an agent.
   */
  getServiceCatalog(): ServiceCatalogEntry[] {
    return [...this.byName.values()].map((s) => ({
      name: s.name,
      description: s.description,
      ...(s.inputSchema === undefined ? {} : { inputSchema: s.inputSchema }),
      ...(s.outputSchema === undefined ? {} : { outputSchema: s.outputSchema }),
      requiresStake: s.requiresStake,
      minStake: s.minStake,
      ...(s.price === undefined ? {} : { price: s.price }),
      ...(s.timeoutMs === Infinity ? {} : { timeoutMs: s.timeoutMs }),
      ...(s.maxConcurrency === Infinity ? {} : { maxConcurrency: s.maxConcurrency }),
      ...(s.cache === undefined ? {} : { cache: { ttlMs: s.cache.ttlMs, perCaller: s.cache.perCaller } }),
      metrics: this.metrics.snapshot(s.name)!,
    }));
  }

  /** What the router adds to the agent's registry record: its services and, unless turned off, their names as capabilities. */
  registration(): RegistrationContribution {
    return this.agent.registration();
  }

  /** Forgets cached stakes (one caller's, or all): call it when you learn a stake changed (a `stake_changed` registry event). */
  invalidateStake(agentId?: string): void {
    this.stakes.invalidate(agentId);
  }

  /**
   * Wires the router into an agent: the `/rpc` handler, `GET /catalog`, the
   * registry record, `/metrics`, and stakes from the agent's registry. What
   * `agent.use(serviceRouter())` does at initialize.
   */
  attach(context: AgentContext): void {
    this.agent.attach(context, this);
  }

  /** Stops the deadline timers. Calls still running are not waited for (the agent drains its endpoint first). */
  close(): void {
    for (const q of this.deadlineQueues) q.stop();
  }

  private nameList(): string {
    const names = [...this.byName.keys()];
    if (names.length === 0) return 'nothing (no service is registered)';
    const shown = names.slice(0, 20).map((n) => `"${n}"`).join(', ');
    return names.length > 20 ? `${shown} and ${names.length - 20} more` : shown;
  }

  /**
   * Runs the handler against the service's deadline: the outcome settles at
   * the handler's answer or the deadline, whichever is first. A handler that
   * answers synchronously is done before any timer could fire: it gets no
   * promise and no place in the deadline queue.
   */
  private bounded(service: CompiledService, params: unknown, call: ServiceCall): unknown {
    const deadline = this.clock.now() + service.timeoutMs;
    const pending = service.handler(params, call);
    if (!isThenable(pending)) return pending;
    const outcome = new Promise<unknown>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    call.deadline = deadline;
    service.deadlines.add(call);
    pending.then(call.resolve, call.reject);
    return outcome;
  }

  private handlerError(service: CompiledService, e: unknown): SovError {
    // A SovError is the handler's deliberate answer (or our TIMEOUT): its code goes on the wire.
    if (isSovError(e)) return e;
    const message = e instanceof Error ? e.message : String(e);
    this.logger.error('service handler failed', { service: service.name, error: message, stack: e instanceof Error ? e.stack : undefined });
    const expose = this.options.exposeHandlerErrors ?? true;
    return new SovError('HANDLER_FAILED', expose ? `Service "${service.name}" failed: ${message}` : `Service "${service.name}" failed`, { cause: e });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * The service router as an agent capability: `agent.use(serviceRouter())`
 * returns the ServiceRouter. At initialize it serves calls on `POST /rpc`,
 * the catalog on `GET /catalog`, its metrics on `/metrics`, adds the
 * services (and their names as capabilities) to the registry record, and
 * reads callers' stakes from the agent's registry.
 *
 * @example
 * const agent = new Agent({ name: 'analyst', registryUrl, identity });
 * const services = agent.use(serviceRouter());
 * services.register({ name: 'process_data', handler, inputSchema, outputSchema, requiresStake: true, minStake: 100, price: 2 });
 * await agent.start();
 * // elsewhere: await caller.call({ capability: 'process_data', maxPrice: 5 }, 'process_data', params)
 */
export function serviceRouter(options: ServiceRouterOptions = {}): Capability<ServiceRouter> {
  const router = new ServiceRouter(options);
  return {
    name: 'services',
    api: router,
    initialize: (context) => router.attach(context),
    shutdown: () => router.close(),
  };
}
