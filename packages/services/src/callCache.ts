import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ConfigError,
  abortErrorOf,
  type AgentContext,
  type Capability,
  type Clock,
  type PeerCall,
  type PeerCaller,
  type RpcReply,
  type WireSuccess,
} from '@sov/core';
import { CollectedMetric } from '@sov/core/internal';
import { BoundedCache } from './internal/boundedCache';
import { paramsKey } from './internal/paramsKey';
import type { CacheTerms } from './serviceDefinition';

/** Options of callCache(). */
export interface CallCacheOptions {
  /** Most answers kept; the least recently used goes first. @default 1000 */
  maxEntries?: number;
  /** Most bytes kept: keys (the callee, and 9 bytes a number and 2 a character of the request) and answers' JSON (UTF-8). @default 8 MiB */
  maxBytes?: number;
  /** The longest a callee's answer is reused, whatever TTL it asks for, in ms. @default 3600000 (one hour) */
  maxTtlMs?: number;
  /**
   * Identical calls (same callee, service, params and caller) made while one
   * of them is on its way wait for its answer instead of sending their own,
   * once the callee has said the service is cacheable. A waiting call whose
   * leader fails, or whose answer turns out not to be cacheable, sends its own.
   * @default true
   */
  coalesce?: boolean;
  /** @default the clock of the agent that uses it (give one clock when several agents share the cache) */
  clock?: Clock;
  /** Prefix of the metric names. @default 'sov_call_cache_' */
  metricsPrefix?: string;
}

/** What a call cache has done, over every agent that uses it. */
export interface CallCacheStats {
  /** Calls answered from the cache, without a round trip. */
  hits: number;
  /** Calls of a cacheable service that went to the callee (their answer was kept). */
  misses: number;
  /** Calls of a cacheable service that skipped the cache: `bypass()`, or a call asking for a receipt. */
  bypassed: number;
  /** Calls that waited for an identical call on its way instead of sending their own. */
  joined: number;
  /** Answers dropped to make room. */
  evictions: number;
  /** Answers held now. */
  entries: number;
  /** Bytes held now. */
  bytes: number;
}

/** What `agent.use(callCache())` returns. */
export interface CallCache {
  /**
   * Runs `fn` with the cache skipped for every call it makes: they go to the
   * callee, ask its router for a fresh answer too (`cache: 'bypass'` in the
   * request), and their answers replace the kept ones. For one call,
   * `agent.call(..., { cache: false })` does the same without wrapping it
   * (and without the AsyncLocalStorage this needs).
   *
   * @example
   * const latest = await cache.bypass(() => agent.call(peerId, 'quote', { symbol: 'ACME' }));
   */
  bypass<T>(fn: () => T): T;
  /** Forgets every kept answer. */
  clear(): void;
  /** Counters and size, over every agent that uses this cache. */
  stats(): CallCacheStats;
}

type Counters = Omit<CallCacheStats, 'entries' | 'bytes'>;

/** A kept answer: its JSON (parsed anew for each reader) and when it goes stale. */
interface Kept {
  readonly json: string;
  readonly expiresAt: number;
}

interface InFlight {
  /** The kept answer, or undefined when the leader failed or its answer could not be kept. */
  readonly answer: Promise<Kept | undefined>;
  readonly timeoutMs: number | undefined;
}

/** What a request carries to ask the callee's router for a fresh answer (see ServiceRouter). */
const BYPASS = 'bypass';
const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_TTL_MS = 3_600_000;

/**
 * Reuses the answers of cacheable services on the calling side: a call to
 * the same callee (agent id and endpoint), service and params as one whose
 * answer is still fresh is answered from memory, without a round trip. A
 * callee says what may be reused (the router's `cache` terms in its reply,
 * from the service's `cache` option); nothing else is ever kept. An answer
 * that depends on the caller (scope `caller`) is kept under the calling
 * agent's identity and only ever given back to it, even when several agents
 * share one cache; an agent without an identity keeps none. Only successful
 * answers are kept; calls asking for a receipt (callDetailed) always go to
 * the callee. Bounded in entries and bytes; hits, misses and evictions are
 * in the agent's `/metrics`.
 *
 * @example
 * const cache = agent.use(callCache({ maxEntries: 500, maxBytes: 4 * 1024 * 1024 }));
 * await agent.start();
 * await agent.call(peerId, 'quote', { symbol: 'ACME' }); // goes to the peer
 * await agent.call(peerId, 'quote', { symbol: 'ACME' }); // answered from the cache while fresh
 * await cache.bypass(() => agent.call(peerId, 'quote', { symbol: 'ACME' })); // goes to the peer again
 */
export function callCache(options: CallCacheOptions = {}): Capability<CallCache> {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxTtlMs = options.maxTtlMs ?? DEFAULT_MAX_TTL_MS;
  checkWhole('maxEntries', maxEntries);
  checkWhole('maxBytes', maxBytes);
  checkWhole('maxTtlMs', maxTtlMs);
  if (options.coalesce !== undefined && typeof options.coalesce !== 'boolean') {
    throw new ConfigError('callCache.coalesce', `must be a boolean, got ${String(options.coalesce)}`);
  }
  const answers = new BoundedCache(maxEntries, maxBytes);
  /** What each callee's service said last: the scope of its answers (absent: not cacheable, or never seen). */
  const scopes = new Map<string, CacheTerms['scope']>();
  const skipping = new AsyncLocalStorage<boolean>();
  const perAgent: Counters[] = [];

  const api: CallCache = {
    bypass: (fn) => skipping.run(true, fn),
    clear: () => answers.clear(),
    stats: () => {
      const total: CallCacheStats = { hits: 0, misses: 0, bypassed: 0, joined: 0, evictions: 0, entries: answers.size, bytes: answers.bytes };
      for (const c of perAgent) {
        total.hits += c.hits;
        total.misses += c.misses;
        total.bypassed += c.bypassed;
        total.joined += c.joined;
        total.evictions += c.evictions;
      }
      return total;
    },
  };

  const attach = (context: AgentContext): void => {
    const clock = options.clock ?? context.clock;
    const callerId = context.identity?.id;
    const counters: Counters = { hits: 0, misses: 0, bypassed: 0, joined: 0, evictions: 0 };
    perAgent.push(counters);
    registerMetrics(context, options.metricsPrefix ?? 'sov_call_cache_', counters, answers);
    // Per agent: a waiting call shares the leader's signature and deadline defaults, so only its own agent's.
    const inFlight = new Map<string, InFlight>();
    const coalesce = options.coalesce ?? true;

    /** Keeps a reply's answer when its terms allow; what was kept, if anything. */
    const remember = (reply: WireSuccess<RpcReply>, target: string, request: string, skipped: boolean): Kept | undefined => {
      const terms = termsOf(reply);
      if (terms === undefined) {
        scopes.delete(target);
        return undefined;
      }
      if (!scopes.has(target) && scopes.size >= maxEntries) scopes.delete(scopes.keys().next().value!);
      scopes.set(target, terms.scope);
      if (skipped) counters.bypassed++;
      else counters.misses++;
      const key = keyOf(terms.scope, target, callerId, request);
      if (key === undefined) return undefined;
      let json: string | undefined;
      try {
        json = JSON.stringify(reply.result);
      } catch {
        return undefined;
      }
      if (json === undefined) return undefined;
      const expiresAt = clock.now() + Math.min(terms.ttlMs, maxTtlMs);
      counters.evictions += answers.set(key, json, expiresAt);
      return { json, expiresAt };
    };

    /** Sends the call; `key` is set when identical calls may wait for this one. */
    const send = (next: PeerCaller, call: PeerCall, target: string, request: string, skipped: boolean, key?: string): Promise<WireSuccess<RpcReply>> => {
      const pending = next(call).then((reply) => ({ reply, kept: remember(reply, target, request, skipped) }));
      if (key === undefined || !coalesce) return pending.then((r) => r.reply);
      const record: InFlight = { answer: pending.then((r) => r.kept, () => undefined), timeoutMs: call.timeoutMs };
      inFlight.set(key, record);
      const done = () => {
        if (inFlight.get(key) === record) inFlight.delete(key);
      };
      return pending.then(
        (r) => {
          done();
          return r.reply;
        },
        (e: unknown) => {
          done();
          throw e;
        },
      );
    };

    context.wrapPeerCalls((next) => (call) => {
      const service = call.request.service;
      if (typeof service !== 'string') return next(call);
      // JSON, not a separator: no agent id, endpoint or service name can pass for another's.
      const target = JSON.stringify([call.agentId, call.endpoint, service]);
      let request: string;
      try {
        request = paramsKey(call.request);
      } catch {
        return next(call);
      }
      // A receipt proves a real call: never answered from memory.
      const bypassed = call.cache === false || skipping.getStore() === true;
      const skipped = call.receipt === true || bypassed;
      const scope = scopes.get(target);
      // The opt-out reaches the callee too (the request's `cache: 'bypass'`): its router runs the handler instead of answering from its own cache.
      if (bypassed) return send(next, { ...call, request: { ...call.request, cache: BYPASS } }, target, request, true);
      // Not known to be cacheable (yet): the reply's terms decide whether it is kept.
      if (scope === undefined || skipped) return send(next, call, target, request, skipped);
      const key = keyOf(scope, target, callerId, request);
      if (key === undefined) return send(next, call, target, request, false);
      const now = clock.now();
      const hit = answers.get(key, now);
      if (hit !== undefined) {
        counters.hits++;
        return Promise.resolve(replyOf(service, hit, scope, now));
      }
      const leader = inFlight.get(key);
      if (leader !== undefined && (call.timeoutMs === undefined || (leader.timeoutMs !== undefined && call.timeoutMs >= leader.timeoutMs))) {
        counters.joined++;
        return follow(leader, call, service, scope, clock).then((reply) => reply ?? send(next, call, target, request, false, key));
      }
      return send(next, call, target, request, false, key);
    });
  };

  return { name: 'callCache', api, initialize: attach };
}

/**
 * Where an answer is kept: the callee, service and request's key, and
 * for a caller-scoped answer the calling identity. Undefined when a
 * caller-scoped answer has no identity to be kept under.
 */
function keyOf(scope: CacheTerms['scope'], target: string, callerId: string | undefined, request: string): string | undefined {
  if (scope === 'shared') return `${target}\n*\n${request}`;
  return callerId === undefined ? undefined : `${target}\n${callerId}\n${request}`;
}

/** A reply's cache terms when they are well formed; anything else means "do not keep". */
function termsOf(reply: WireSuccess<RpcReply>): CacheTerms | undefined {
  const terms = reply.cache as Partial<CacheTerms> | undefined;
  if (typeof terms !== 'object' || terms === null) return undefined;
  const { ttlMs, scope } = terms;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) return undefined;
  if (scope !== 'shared' && scope !== 'caller') return undefined;
  return { ttlMs, scope };
}

/** A kept answer as the call pipeline returns replies: a fresh copy of the result, and the terms left. */
function replyOf(service: string, answer: Kept, scope: CacheTerms['scope'], now: number): WireSuccess<RpcReply> {
  return { success: true, service, result: JSON.parse(answer.json) as unknown, cache: { ttlMs: answer.expiresAt - now, scope } };
}

/** Waits for the leader's answer, or the waiting call's own abort; undefined when the leader's answer was not kept. */
function follow(leader: InFlight, call: PeerCall, service: string, scope: CacheTerms['scope'], clock: Clock): Promise<WireSuccess<RpcReply> | undefined> {
  const signal = call.signal;
  const answer = leader.answer.then((kept) => (kept === undefined ? undefined : replyOf(service, kept, scope, clock.now())));
  if (signal === undefined) return answer;
  if (signal.aborted) return Promise.reject(abortErrorOf(signal, `Call of ${service} to ${call.endpoint}`));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortErrorOf(signal, `Call of ${service} to ${call.endpoint}`));
    signal.addEventListener('abort', onAbort, { once: true });
    void answer.then((reply) => {
      signal.removeEventListener('abort', onAbort);
      resolve(reply);
    });
  });
}

function checkWhole(option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`callCache.${option}`, `must be a whole number >= 1, got ${String(value)}`);
  }
}

function registerMetrics(context: AgentContext, prefix: string, counters: Counters, answers: BoundedCache): void {
  const one = (value: () => number) => () => [{ labels: {}, value: value() }];
  new CollectedMetric(`${prefix}hits_total`, 'Peer calls answered from the call cache', 'counter', one(() => counters.hits)).registerIn(context.metrics);
  new CollectedMetric(`${prefix}misses_total`, 'Peer calls of cacheable services that went to the callee', 'counter', one(() => counters.misses)).registerIn(context.metrics);
  new CollectedMetric(`${prefix}evictions_total`, 'Answers dropped from the call cache to make room', 'counter', one(() => counters.evictions)).registerIn(context.metrics);
  new CollectedMetric(`${prefix}bypassed_total`, 'Peer calls of cacheable services that skipped the call cache', 'counter', one(() => counters.bypassed)).registerIn(context.metrics);
  new CollectedMetric(`${prefix}joined_total`, 'Peer calls that waited for an identical call instead of sending their own', 'counter', one(() => counters.joined)).registerIn(context.metrics);
  new CollectedMetric(`${prefix}entries`, 'Answers held in the call cache', 'gauge', one(() => answers.size)).registerIn(context.metrics);
  new CollectedMetric(`${prefix}bytes`, 'Bytes held in the call cache', 'gauge', one(() => answers.bytes)).registerIn(context.metrics);
}
