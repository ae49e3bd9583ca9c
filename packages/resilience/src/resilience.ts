import {
  LifecycleError,
  type AgentContext,
  type AgentRequest,
  type Capability,
  type PeerCall,
  type PeerCallOptions,
  type PeerCaller,
  type RpcReply,
  type WireSuccess,
} from '@sov/core';
import type { BulkheadOptions } from './bulkhead';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitBreakerState } from './circuitBreaker';
import { ErrorHandler, type ErrorHandlerOptions } from './errorHandler';
import { eventLoopLagCheck, lastSuccessCheck, memoryCheck, queueDepthCheck, registryCheck } from './healthChecks';
import { HealthMonitor, type HealthMonitorOptions } from './healthMonitor';
import { lateClock, lateLogger } from './internal/lateBinding';
import type { Dispose, Work } from './policy';
import { PolicyStack } from './policyStack';
import { RateLimiter, type RateLimiterOptions } from './rateLimiter';
import { rateLimitGuard, type RateLimitGuardOptions } from './rateLimitGuard';
import { ResilientRegistryClient } from './resilientRegistryClient';
import { RetryPolicy, type RetryPolicyOptions } from './retryPolicy';
import { TimeoutPolicy } from './timeoutPolicy';

/** Health options of the resilience capability. */
export interface ResilienceHealthOptions extends Omit<HealthMonitorOptions, 'clock' | 'logger'> {
  /** Event-loop p99 lag above which `/health` fails, in ms. @default 500 */
  maxEventLoopLagMs?: number;
  /** Share of the heap limit above which `/health` fails. @default 0.9 */
  maxHeapRatio?: number;
  /** Requests in flight plus peer calls queued above which `/ready` fails. @default 1000 */
  maxQueueDepth?: number;
  /** Longest silence since the last successful request before `/ready` fails, in ms. @default no limit (reported only) */
  maxIdleMs?: number;
  /** Check that the registry answers. @default true when the agent has a registry */
  registry?: boolean;
}

/** Options of the resilience capability. */
export interface ResilienceOptions {
  /** Retries of peer calls. @default { maxAttempts: 3 } */
  retry?: RetryPolicyOptions;
  /** The circuit breaker each peer gets. @default { failureThreshold: 5, recoveryTimeout: 60000 } */
  breaker?: Omit<CircuitBreakerOptions, 'name'>;
  /** Time budget of one attempt of a peer call, in ms. @default the agent's requestTimeoutMs */
  timeoutMs?: number;
  /** Calls in flight per peer (a hung peer takes at most this many). @default { limit: 64, queue: 256 } */
  bulkhead?: Omit<BulkheadOptions, 'name'> | false;
  /** Retries of registry calls, registration first: a registry that comes up late is fine. @default { maxAttempts: 8, initialDelay: 250, maxDelay: 5000 } */
  registryRetry?: RetryPolicyOptions | false;
  /** A token bucket per caller in front of the agent's endpoint; refused calls get 429 + Retry-After. @default off */
  rateLimit?: (RateLimiterOptions & RateLimitGuardOptions) | false;
  /** The health monitor mirrored into `/health` and `/ready`. @default { intervalMs: 30000 } */
  health?: ResilienceHealthOptions | false;
  /** ErrorHandler options; `shutdown` is the agent's. */
  errors?: Omit<ErrorHandlerOptions, 'logger' | 'clock' | 'shutdown'>;
  /** Shut down gracefully on SIGTERM and SIGINT (then exit unless `exit: false`). @default false */
  handleSignals?: boolean | { signals?: NodeJS.Signals[]; exit?: boolean };
  /** Peers whose breakers are kept; the least recently called are forgotten first. @default 1000 */
  maxPeers?: number;
}

/** Options of one peer call. */
export interface CallPeerOptions {
  /** Cancels the call (every attempt). */
  signal?: AbortSignal;
}

/** What `agent.use(resilience())` returns. */
export interface ResilienceApi {
  /**
   * Calls a peer's request route through its own bulkhead, retry, circuit
   * breaker and timeout. Fails fast with CIRCUIT_OPEN while the peer is
   * considered down, BULKHEAD_FULL when too many calls to it are in flight.
   * (`agent.call()` goes through the same per-peer policies.)
   */
  callPeer(endpoint: string, request: AgentRequest, options?: CallPeerOptions): Promise<WireSuccess<RpcReply>>;
  /** The circuit breaker of a peer (created on first use). */
  breakerFor(endpoint: string): CircuitBreaker;
  /** Subscribes to state changes of every peer's breaker; returns a function that unsubscribes. */
  onPeerStateChange(listener: (endpoint: string, state: CircuitBreakerState) => void): Dispose;
  /** The error handler: register handlers per error class; CRITICAL shuts the agent down. */
  readonly errors: ErrorHandler;
  /** The health monitor behind `/health` and `/ready` (add checks to it). */
  readonly health: HealthMonitor;
  /** The rate limiter in front of the endpoint, when enabled. */
  readonly rateLimiter: RateLimiter | undefined;
  /** The retry policy of registry calls, when enabled. */
  readonly registryRetry: RetryPolicy | undefined;
  /** The retry policy of peer calls (subscribe to its events). */
  readonly retry: RetryPolicy;
  /** Marks a successful request now (peer and registry calls are marked already). */
  recordSuccess(): void;
  /** Clock time of the last successful request. */
  readonly lastSuccessAt: number | undefined;
}

interface PeerPolicies {
  stack: PolicyStack;
  breaker: CircuitBreaker;
}

/** The call with a time budget; written out, since an object spread here cost about 1 µs a call. */
function withBudget(call: PeerCall, timeoutMs: number): PeerCall {
  const budget: PeerCall = { agentId: call.agentId, endpoint: call.endpoint, request: call.request, timeoutMs };
  if (call.signal) budget.signal = call.signal;
  if (call.receipt !== undefined) budget.receipt = call.receipt;
  if (call.cache !== undefined) budget.cache = call.cache;
  return budget;
}

const normalise = (endpoint: string): string => endpoint.replace(/\/+$/, '');

/**
 * The guide's ResilientAgent as a capability: registration retried with
 * backoff, per-peer circuit breakers, timeouts and bulkheads, an ErrorHandler
 * wired to graceful shutdown, an optional rate limiter on the endpoint and a
 * health monitor behind `/health` and `/ready`.
 *
 * @example
 * const agent = new Agent({ name: 'analyst', registryUrl });
 * const res = agent.use(resilience({ retry: { maxAttempts: 3 }, breaker: { failureThreshold: 5 }, handleSignals: true }));
 * await agent.start(); // the registry may come up a few seconds later
 * const reply = await res.callPeer(peer.endpoint, { service: 'summarise', params: { text } });
 */
export function resilience(options: ResilienceOptions = {}): Capability<ResilienceApi> {
  let ctx: AgentContext | undefined;
  let lastSuccessAt: number | undefined;
  let disposeSignals: Dispose | undefined;
  let timeout: TimeoutPolicy | undefined;
  const clock = lateClock(() => ctx?.clock);
  const logger = lateLogger(() => ctx?.logger, { component: 'resilience' });
  const maxPeers = options.maxPeers ?? 1000;
  const peers = new Map<string, PeerPolicies>();
  const stateListeners = new Set<(endpoint: string, state: CircuitBreakerState) => void>();
  const retry = new RetryPolicy(options.retry ?? {});
  const registryRetry =
    options.registryRetry === false ? undefined : new RetryPolicy({ maxAttempts: 8, initialDelay: 250, maxDelay: 5000, ...options.registryRetry });
  const rateLimiter = options.rateLimit ? new RateLimiter({ ...options.rateLimit, clock }) : undefined;
  const healthOptions = options.health === false ? undefined : (options.health ?? {});
  const health = new HealthMonitor({ ...healthOptions, clock, logger });
  const errors = new ErrorHandler({
    ...options.errors,
    logger,
    clock,
    shutdown: (reason) => ctx?.agent.shutdown(reason),
  });
  const recordSuccess = () => {
    lastSuccessAt = clock.now();
  };

  let lastEndpoint: string | undefined;
  let lastPolicies: PeerPolicies | undefined;
  const policiesFor = (endpoint: string): PeerPolicies => {
    // Calls in a row to one peer skip the lookup: that peer is the most recently used already.
    if (endpoint === lastEndpoint && lastPolicies) return lastPolicies;
    const key = endpoint.endsWith('/') ? normalise(endpoint) : endpoint;
    let p = peers.get(key);
    if (p) {
      // Keep the Map least-recently-used first, for eviction.
      peers.delete(key);
      peers.set(key, p);
      lastEndpoint = endpoint;
      lastPolicies = p;
      return p;
    }
    if (!ctx) throw new LifecycleError('resilience: peer calls are available after the agent is initialized');
    timeout ??= new TimeoutPolicy({ timeoutMs: options.timeoutMs ?? ctx.config.requestTimeoutMs, name: 'Peer call', clock });
    const breaker = new CircuitBreaker({ failureThreshold: 5, recoveryTimeout: 60_000, ...options.breaker, name: key });
    breaker.onSuccess(recordSuccess);
    breaker.onStateChange((state) => {
      logger[state === 'closed' ? 'info' : 'warn']('peer circuit state changed', { peer: key, state });
      for (const l of stateListeners) l(key, state);
    });
    const bulkhead = options.bulkhead === false ? false : { limit: 64, queue: 256, ...options.bulkhead, name: key };
    p = { stack: new PolicyStack({ bulkhead, retry, breaker, timeoutMs: timeout }), breaker };
    if (peers.size >= maxPeers) {
      const oldest = peers.keys().next();
      if (!oldest.done) peers.delete(oldest.value);
    }
    peers.set(key, p);
    lastEndpoint = endpoint;
    lastPolicies = p;
    return p;
  };

  /** Puts a peer caller behind the peer's own policies: bulkhead → retry → breaker → timeout. */
  const guard =
    (next: PeerCaller): PeerCaller =>
    (call) => {
      let stack: PolicyStack;
      try {
        stack = policiesFor(call.endpoint).stack;
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
      // The request gets the policy's budget, so it is cancelled too when the policy gives up. Only a caller's signal
      // is passed on: the HTTP client merges a given signal with AbortSignal.any, ~20 µs a call on Node 20.
      const budget: PeerCall = call.timeoutMs === undefined ? withBudget(call, timeout!.timeoutMs) : call;
      const work: Work<WireSuccess<RpcReply>> = call.signal ? ({ signal }) => next({ ...budget, signal }) : () => next(budget);
      // Successes are marked by the peer's breaker (onSuccess), which costs no extra promise here.
      return stack.execute(work, call.signal);
    };

  const barePeerCall: PeerCaller = (call) => {
    const options: PeerCallOptions = {};
    if (call.timeoutMs !== undefined) options.timeoutMs = call.timeoutMs;
    if (call.signal) options.signal = call.signal;
    return ctx!.agent.peers.call(call.endpoint, call.request, options);
  };
  const guardedPeerCall = guard(barePeerCall);

  const queued = () => {
    let n = 0;
    for (const p of peers.values()) n += p.stack.bulkhead?.queued ?? 0;
    return n;
  };

  const api: ResilienceApi = {
    callPeer(endpoint, request, callOptions) {
      if (!ctx) return Promise.reject(new LifecycleError('resilience: peer calls are available after the agent is initialized'));
      // Made with the policy's budget, so the guard has nothing to add.
      timeout ??= new TimeoutPolicy({ timeoutMs: options.timeoutMs ?? ctx.config.requestTimeoutMs, name: 'Peer call', clock });
      const call: PeerCall = { agentId: endpoint, endpoint, request, timeoutMs: timeout.timeoutMs };
      if (callOptions?.signal) call.signal = callOptions.signal;
      return guardedPeerCall(call);
    },
    breakerFor: (endpoint) => policiesFor(endpoint).breaker,
    onPeerStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    errors,
    health,
    rateLimiter,
    registryRetry,
    retry,
    recordSuccess,
    get lastSuccessAt() {
      return lastSuccessAt;
    },
  };

  return {
    name: 'resilience',
    api,
    initialize(context) {
      ctx = context;
      // agent.call() and agent.callDetailed() go through the same per-peer policies as callPeer().
      context.wrapPeerCalls(guard);
      const registry = context.registry;
      if (registry && registryRetry) context.setRegistry(new ResilientRegistryClient(registry, registryRetry, recordSuccess));
      if (rateLimiter && options.rateLimit) context.endpoint.addGuard(rateLimitGuard(rateLimiter, options.rateLimit));
      if (healthOptions) {
        if (registry && healthOptions.registry !== false) health.addCheck(registryCheck(registry, context.agentId));
        health.addCheck(eventLoopLagCheck({ ...(healthOptions.maxEventLoopLagMs === undefined ? {} : { maxLagMs: healthOptions.maxEventLoopLagMs }) }));
        health.addCheck(memoryCheck({ ...(healthOptions.maxHeapRatio === undefined ? {} : { maxHeapRatio: healthOptions.maxHeapRatio }) }));
        // The kernel's endpoint counts requests in flight; the registrar type does not show it.
        const endpoint = context.endpoint as { inFlight?: unknown };
        const inFlight = () => (typeof endpoint.inFlight === 'number' ? endpoint.inFlight : 0);
        // Queues that other capabilities declare (an event queue) count too.
        const declared = () => {
          let n = 0;
          for (const d of Object.values(context.endpoint.queueDepths())) n += d;
          return n;
        };
        health.addCheck(
          queueDepthCheck(() => inFlight() + queued() + declared(), { ...(healthOptions.maxQueueDepth === undefined ? {} : { max: healthOptions.maxQueueDepth }) }),
        );
        health.addCheck(
          lastSuccessCheck(() => lastSuccessAt, { clock, ...(healthOptions.maxIdleMs === undefined ? {} : { maxIdleMs: healthOptions.maxIdleMs }) }),
        );
        health.onUnhealthy((report) => {
          const failing = Object.entries(report.checks).filter(([, c]) => !c.ok).map(([name]) => name);
          logger.warn('agent unhealthy', { failing });
        });
        health.attach(context.endpoint);
      }
    },
    start() {
      if (healthOptions) health.start();
    },
    ready(context) {
      if (options.handleSignals) {
        disposeSignals = context.agent.shutdownOnSignals(options.handleSignals === true ? {} : options.handleSignals);
      }
    },
    shutdown() {
      disposeSignals?.();
      disposeSignals = undefined;
      health.stop();
    },
  };
}
