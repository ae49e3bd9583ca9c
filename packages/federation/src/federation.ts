import { randomBytes } from 'node:crypto';
import {
  MAX_AMOUNT,
  SovError,
  isSovErrorCode,
  toSovError,
  type AgentContext,
  type AgentRecord,
  type Capability,
  type CallQuery,
  type CallTarget,
  type Clock,
  type Logger,
  type PeerClient,
  type SearchQuery,
} from '@sov/core';
import { signFederatedRequest, verifyRouteReceipt, type FederatedOperation, type RouteReceipt } from '@sov/crypto';
import { RegistryLink, type RegistryLinkStatus } from './internal/registryLink';
import { fetchRegistryJson } from './internal/fetchRegistryJson';
import type { MirroredPage, PageRanking } from './internal/searchClient';
import { DEFAULT_SCORE_WEIGHTS, serviceScore, servicePrice, type ScoreWeights } from '@sov/core/internal';

/** Options of the federation capability. */
export interface FederationOptions {
  /** The primary registry's URL: its results get the primary bonus, transactions enter the federation there. @default the agent's registryUrl */
  primary?: string;
  /** The other registries searched. @default [] */
  registries?: string[];
  /**
   * How a search reaches the registries. `mirror`: one request to the
   * primary's federated search (`GET /v1/federation/search`), which answers
   * from its own listings and its copies of its peers'; listed registries
   * it does not mirror (or whose copy is stale) are asked directly, in the
   * same search. Falls back to `fanout` while the primary has no such route
   * (asked again after a minute) or is down. `fanout`: every registry is
   * asked directly, in parallel.
   * @default 'mirror'
   */
  mode?: 'mirror' | 'fanout';
  /** Time budget of each registry's search in ms: a slower registry is left out of that answer. @default 2000 */
  searchTimeoutMs?: number;
  /** How long a search answer is reused, in ms (dropped early for an agent a registry reports gone). @default 300000 (the guide's five minutes) */
  cacheTtlMs?: number;
  /** Most cached answers. @default 1000 */
  maxCacheEntries?: number;
  /** Weights of the score. @default DEFAULT_SCORE_WEIGHTS */
  weights?: Partial<ScoreWeights>;
  /** The maxPrice of the score when requirements name none (the guide's 1000). @default 1000 */
  defaultMaxPrice?: number;
  /** How long start waits for each registry's event stream, in ms; one that is down is retried in the background. @default 2000 */
  connectTimeoutMs?: number;
  /** Time budget of one cross-registry transaction in ms. @default 15000 */
  transactionTimeoutMs?: number;
  /** How long a path from the primary is reused, in ms (dropped when a transaction along it fails on the way); 0 asks every time. @default 30000 */
  pathTtlMs?: number;
}

/** What a search asks of the agents, besides the capability. */
export interface ServiceRequirements {
  /** More capabilities every result must have. */
  capabilities?: string[];
  minReputation?: number;
  /** Highest price, whole minor units; also the score's maxPrice. */
  maxPrice?: number;
  /** The listing whose price counts. @default the capability */
  service?: string;
  /**
   * Most results: the size of the page. The primary's federated search
   * answers the best `limit` across it and its mirrors; a registry asked
   * directly answers its first `limit`; the merged page keeps the best `limit`.
   * @default 50 for searchAll, 5 for findService
   */
  limit?: number;
}

/** One agent found by a federated search. */
export interface FederatedMatch {
  agent: AgentRecord;
  /** The registry the result is credited to (the primary when it knows the agent). */
  registry: string;
  /** Every registry that knows the agent. */
  registries: string[];
  /** The price the score used (undefined: none listed, scored as maxPrice). */
  price: number | undefined;
  score: number;
}

/** How one registry answered a federated search. */
export interface RegistrySearchOutcome {
  url: string;
  ok: boolean;
  /** Its agents on the page (for `mirror`: on the primary's page, before this agent merged in the registries it asked directly). */
  count: number;
  /** Its answer time in ms (for `mirror`, that of the one request to the primary). */
  ms: number;
  /** `direct`: this agent asked the registry; `mirror`: the primary answered from its copy of the registry's listings. */
  via: 'direct' | 'mirror';
  /** For `mirror`: whether the primary's copy follows the registry's event stream right now. */
  connected?: boolean;
  /** For `mirror`: when the primary last heard from the registry (an event or a keep-alive). */
  lastEventAt?: string;
  /** For `mirror`: the registry lists more than the primary keeps of it, so some of its agents may be missing. */
  truncated?: boolean;
  error?: { code: string; message: string };
}

/** A federated search's merged, deduplicated page, best first. */
export interface FederatedSearchPage {
  results: FederatedMatch[];
  registries: RegistrySearchOutcome[];
  /** Whether the page came from the cache. */
  cached: boolean;
}

/** A registry on a federation path. */
export interface RegistryHop {
  id: string;
  url: string;
}

/** What a cross-registry transaction returns. */
export interface CrossRegistryResult<T> {
  result: T;
  /** The route receipt: the signed request, every hop's signature going and returning; verifyRouteReceipt checks it. */
  receipt: RouteReceipt;
  path: RegistryHop[];
}

/** Options of one cross-registry transaction. */
export interface TransactionOptions {
  /** @default the federation's transactionTimeoutMs */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What `agent.use(federation(...))` returns. */
export interface FederationApi {
  /** The best match across every registry (the guide's find_service), or undefined. */
  findService(capability: string, requirements?: ServiceRequirements): Promise<FederatedMatch | undefined>;
  /** The best `limit` matches across every registry, deduplicated and ranked, with each registry's outcome. */
  searchAll(capability: string, requirements?: ServiceRequirements): Promise<FederatedSearchPage>;
  /** The shortest path of registries from the primary to `targetRegistry` (id or URL); NO_FEDERATION_PATH when none. */
  path(targetRegistry: string): Promise<RegistryHop[]>;
  /**
   * Calls `operation` on `targetAgent`, registered at `targetRegistry` (id or
   * URL), through the registries between (the guide's
   * execute_cross_registry_transaction). The request is signed by this
   * agent; every registry on the path verifies and countersigns it going and
   * returning; the route receipt is checked before the result is returned
   * (ROUTE_TAMPERED otherwise). An error answered by the target agent is
   * thrown with its code, the receipt in `details.receipt`.
   */
  executeCrossRegistryTransaction<T = unknown>(
    targetAgent: string,
    targetRegistry: string,
    operation: FederatedOperation,
    options?: TransactionOptions,
  ): Promise<CrossRegistryResult<T>>;
  /** How each registry link stands. */
  registries(): RegistryLinkStatus[];
  /** Forgets every cached search answer and path. */
  clearCache(): void;
}

/** One registry's part of a search, asked directly or taken from the primary's mirror answer. */
interface RegistryAnswer {
  url: string;
  primary: boolean;
  agents: AgentRecord[];
  outcome: RegistrySearchOutcome;
}

/** The page findService asks for when the requirements name no limit: the best result, and a few to compare it with. */
const FIND_LIMIT = 5;
/** Highest weight of the score (the registry's federated search refuses more). */
const MAX_WEIGHT = 1000;
/** How long a primary without a federated search route is not asked for one again, in ms. */
const MIRROR_RETRY_MS = 60_000;
/** Most registries known only from the primary's answers whose peer_left events are followed. */
const MAX_WATCHED = 32;

interface CacheEntry {
  until: number;
  page: FederatedSearchPage;
  agents: Set<string>;
}

function cacheKey(capability: string, r: ServiceRequirements, limit: number): string {
  return JSON.stringify([capability, [...(r.capabilities ?? [])].sort(), r.minReputation ?? null, r.maxPrice ?? null, r.service ?? null, limit]);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) throw new SovError('INVALID_CONFIG', `federation ${name} must be a positive number (got ${value})`);
  return value;
}

/**
 * Federation as a capability: one search across the primary and every other
 * registry (parallel, each with its own timeout, deduplicated, ranked with
 * the guide's score, cached until a registry reports an agent gone), agent.call
 * with `{ federated: true }` queries, and signed cross-registry transactions.
 *
 * @example
 * const fed = agent.use(federation({ primary: 'http://127.0.0.1:7000', registries: ['http://127.0.0.1:7001'] }));
 * await agent.start();
 * const best = await fed.findService('translate', { maxPrice: 50 });
 * const reply = await agent.call({ capability: 'translate', federated: true }, 'translate', { text: 'hallo' });
 */
export function federation(options: FederationOptions = {}): Capability<FederationApi> {
  const searchTimeoutMs = positive('searchTimeoutMs', options.searchTimeoutMs, 2000);
  const cacheTtlMs = positive('cacheTtlMs', options.cacheTtlMs, 300_000);
  const maxCacheEntries = positive('maxCacheEntries', options.maxCacheEntries, 1000);
  const defaultMaxPrice = positive('defaultMaxPrice', options.defaultMaxPrice, 1000);
  if (defaultMaxPrice > MAX_AMOUNT) throw new SovError('INVALID_CONFIG', `federation defaultMaxPrice must be at most ${MAX_AMOUNT} (got ${defaultMaxPrice})`);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 2000);
  const transactionTimeoutMs = positive('transactionTimeoutMs', options.transactionTimeoutMs, 15_000);
  const pathTtlMs = options.pathTtlMs === 0 ? 0 : positive('pathTtlMs', options.pathTtlMs, 30_000);
  const mode = options.mode ?? 'mirror';
  if (mode !== 'mirror' && mode !== 'fanout') throw new SovError('INVALID_CONFIG', `federation mode must be 'mirror' or 'fanout' (got ${JSON.stringify(mode)})`);
  const weights: ScoreWeights = { ...DEFAULT_SCORE_WEIGHTS, ...options.weights };
  for (const [k, v] of Object.entries(weights)) {
    if (!(Number.isFinite(v) && v >= 0 && v <= MAX_WEIGHT)) throw new SovError('INVALID_CONFIG', `federation weights.${k} must be a number from 0 to ${MAX_WEIGHT} (got ${v})`);
  }
  for (const url of [options.primary, ...(options.registries ?? [])]) {
    if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url)) throw new SovError('INVALID_CONFIG', `federation registry is not an http(s) URL: ${JSON.stringify(url)}`);
  }

  let links: RegistryLink[] = [];
  let primary: RegistryLink | undefined;
  let ctx: AgentContext | undefined;
  let logger: Logger | undefined;
  let clock: Clock | undefined;
  const cache = new Map<string, CacheEntry>();
  const paths = new Map<string, { hops: RegistryHop[]; until: number }>();
  /** The primary has no federated search route until then. */
  let mirrorRetryAt = 0;
  /** The registries the primary mirrors (its peers), from its last answer: listed ones outside it are asked at once. */
  let mirroredUrls: Set<string> | undefined;
  /** Registries known only from the primary's answers: followed for peer_left, never searched directly. */
  const watched = new Map<string, RegistryLink>();
  let started = false;

  const dropAgent = (agentId: string) => {
    for (const [key, entry] of cache) if (entry.agents.has(agentId)) cache.delete(key);
  };

  async function searchOne(link: RegistryLink, query: SearchQuery): Promise<RegistryAnswer> {
    const t0 = clock!.now();
    const answer = { url: link.url, primary: link.primary };
    try {
      const page = await link.searches.search(query);
      link.markUp();
      return { ...answer, agents: page.agents, outcome: { url: link.url, ok: true, count: page.agents.length, ms: clock!.now() - t0, via: 'direct' } };
    } catch (e) {
      link.markDown(e);
      const err = toSovError(e);
      logger?.warn('federated search failed on a registry', { registry: link.url, code: err.code, error: err.message });
      return { ...answer, agents: [], outcome: { url: link.url, ok: false, count: 0, ms: clock!.now() - t0, via: 'direct', error: { code: err.code, message: err.message } } };
    }
  }

  const fanOut = (targets: RegistryLink[], query: SearchQuery) => Promise.all(targets.map((l) => searchOne(l, query)));

  /** Follows peer_left of registries the primary mirrors that this agent does not list, so the cache rule holds for their agents too. */
  function watch(urls: Iterable<string>): void {
    for (const url of urls) {
      if (!started || watched.size >= MAX_WATCHED || watched.has(url) || links.some((l) => l.url === url)) continue;
      const link = new RegistryLink(url, false, searchTimeoutMs, clock!);
      watched.set(link.url, link);
      void link.connect((e) => dropAgent(e.data.peer_id), logger!, connectTimeoutMs, clock!);
    }
  }

  /** The primary's federated search split into one answer per registry; undefined when the primary gave none (fan out instead). */
  async function viaMirror(query: SearchQuery, ranking: PageRanking): Promise<{ answers: RegistryAnswer[]; covered: Set<string>; peers: Set<string> } | undefined> {
    const link = primary!;
    const t0 = clock!.now();
    let page: MirroredPage;
    try {
      page = await link.searches.federatedSearch(query, ranking);
      link.markUp();
    } catch (e) {
      const err = toSovError(e);
      if (err.code === 'ROUTE_NOT_FOUND') {
        mirrorRetryAt = clock!.now() + MIRROR_RETRY_MS;
        logger?.info('federation: the primary has no federated search; fanning out', { registry: link.url });
      } else {
        if (err.code === 'NETWORK_ERROR' || err.code === 'TIMEOUT') link.markDown(e);
        logger?.warn('federation: the primary federated search failed; fanning out', { registry: link.url, code: err.code, error: err.message });
      }
      return undefined;
    }
    const ms = clock!.now() - t0;
    const byId = new Map<string, RegistryAnswer>();
    const covered = new Set<string>();
    const peers = new Set<string>();
    for (const r of page.registries) {
      const url = r.self ? link.url : r.url.replace(/\/+$/, '');
      if (!r.self) peers.add(url);
      if (r.ok) covered.add(url);
      const outcome: RegistrySearchOutcome = {
        url,
        ok: r.ok,
        count: r.count,
        ms,
        via: 'mirror',
        connected: r.connected,
        ...(r.lastEventAt ? { lastEventAt: r.lastEventAt } : {}),
        ...(r.truncated ? { truncated: true } : {}),
        ...(r.error ? { error: r.error } : {}),
      };
      byId.set(r.id, { url, primary: r.self, agents: [], outcome });
    }
    // The page is deduplicated: a record is in the answer of every registry that lists it (the primary's record when it does),
    // so the merge below credits it as the primary did. Records keep their tags (registry, registries, score): copying them to drop those costs more than it is worth.
    for (const tagged of page.agents) for (const id of tagged.registries) byId.get(id)?.agents.push(tagged);
    return { answers: [...byId.values()], covered, peers };
  }

  /** Every registry's answer: through the primary's mirror when it offers one, else each asked directly. */
  async function gather(query: SearchQuery, ranking: PageRanking): Promise<RegistryAnswer[]> {
    const link = primary!;
    const reachable = link.up || link.status().error === undefined;
    if (mode === 'fanout' || clock!.now() < mirrorRetryAt || !reachable) return fanOut(links, query);
    const others = links.filter((l) => !l.primary);
    const known = mirroredUrls;
    const early = known ? others.filter((l) => !known.has(l.url)) : [];
    const [mirrored, earlyAnswers] = await Promise.all([viaMirror(query, ranking), fanOut(early, query)]);
    if (!mirrored) return [...earlyAnswers, ...(await fanOut(links.filter((l) => !early.includes(l)), query))];
    mirroredUrls = mirrored.peers;
    watch(mirrored.peers);
    // A listed registry the primary has no fresh copy of is asked directly; its answer replaces the mirror's refusal.
    const late = others.filter((l) => !early.includes(l) && !mirrored.covered.has(l.url));
    const direct = new Set([...early, ...late].map((l) => l.url));
    const lateAnswers = await fanOut(late, query);
    return [...mirrored.answers.filter((a) => !direct.has(a.url)), ...earlyAnswers, ...lateAnswers];
  }

  async function searchAll(capability: string, requirements: ServiceRequirements = {}, defaultLimit = 50): Promise<FederatedSearchPage> {
    if (!ctx) throw new SovError('LIFECYCLE', 'federation searches after the agent initialized');
    if (typeof capability !== 'string' || capability.length === 0) throw new SovError('INVALID_INPUT', 'findService needs a capability name');
    const limit = requirements.limit ?? defaultLimit;
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 500)) throw new SovError('INVALID_INPUT', `federated search limit must be an integer from 1 to 500 (got ${limit})`);
    const key = cacheKey(capability, requirements, limit);
    const now = clock!.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return { ...hit.page, cached: true };
    if (hit) cache.delete(key);

    const query: SearchQuery = { capabilities: [capability, ...(requirements.capabilities ?? [])], limit };
    if (requirements.minReputation !== undefined) query.minReputation = requirements.minReputation;
    if (requirements.maxPrice !== undefined) query.maxPrice = requirements.maxPrice;
    const maxPrice = requirements.maxPrice ?? defaultMaxPrice;
    const service = requirements.service ?? capability;
    const answers = await gather(query, { service, maxPrice, weights });

    const merged = new Map<string, FederatedMatch>();
    for (const answer of answers) {
      for (const agent of answer.agents) {
        const seen = merged.get(agent.id);
        if (seen) {
          seen.registries.push(answer.url);
          // The primary's record wins: it is the one the primary bonus is for.
          if (answer.primary) Object.assign(seen, { agent, registry: answer.url });
          continue;
        }
        merged.set(agent.id, { agent, registry: answer.url, registries: [answer.url], price: undefined, score: 0 });
      }
    }
    const results = [...merged.values()];
    for (const m of results) {
      m.price = servicePrice(m.agent, service);
      const fromPrimary = primary !== undefined && m.registries.includes(primary.url);
      m.score = serviceScore({ reputation: m.agent.reputation, availability: m.agent.availability, price: m.price, maxPrice, fromPrimary }, weights);
    }
    results.sort((a, b) => b.score - a.score || (a.agent.id < b.agent.id ? -1 : 1));
    if (results.length > limit) results.length = limit;
    const page: FederatedSearchPage = { results, registries: answers.map((a) => a.outcome), cached: false };
    if (answers.some((a) => a.outcome.ok)) {
      if (cache.size >= maxCacheEntries) cache.delete(cache.keys().next().value!);
      cache.set(key, { until: now + cacheTtlMs, page, agents: new Set(results.map((r) => r.agent.id)) });
    }
    return page;
  }

  async function path(targetRegistry: string): Promise<RegistryHop[]> {
    if (!primary) throw new SovError('LIFECYCLE', 'federation has no primary registry until the agent initialized');
    const target = targetRegistry.replace(/\/+$/, '');
    const known = paths.get(target);
    if (known && known.until > clock!.now()) return known.hops;
    const body = await fetchRegistryJson<{ path: RegistryHop[] }>(`${primary.url}/v1/federation/path?to=${encodeURIComponent(target)}`, searchTimeoutMs);
    if (pathTtlMs > 0) {
      if (paths.size >= maxCacheEntries) paths.delete(paths.keys().next().value!);
      paths.set(target, { hops: body.path, until: clock!.now() + pathTtlMs });
    }
    return body.path;
  }

  async function executeCrossRegistryTransaction<T>(
    targetAgent: string,
    targetRegistry: string,
    operation: FederatedOperation,
    txOptions: TransactionOptions = {},
  ): Promise<CrossRegistryResult<T>> {
    const identity = ctx?.identity;
    if (!ctx || !primary) throw new SovError('LIFECYCLE', 'cross-registry transactions start after the agent initialized');
    if (!identity?.sign) throw new SovError('INVALID_CONFIG', 'A cross-registry transaction is signed by its origin: give the agent an identity that signs (an @sov/crypto Identity)');
    if (typeof operation?.service !== 'string' || operation.service.length === 0) throw new SovError('INVALID_INPUT', 'The operation needs a service name');
    const hops = await path(targetRegistry);
    const ids = hops.map((h) => h.id);
    const request = signFederatedRequest(
      {
        id: randomBytes(16).toString('base64url'),
        origin: identity.id,
        sourceRegistry: ids[0]!,
        targetRegistry: ids[ids.length - 1]!,
        targetAgent,
        path: ids,
        operation: operation.params === undefined ? { service: operation.service } : { service: operation.service, params: operation.params },
        timestamp: new Date(clock!.now()).toISOString(),
      },
      (d) => identity.sign!(d),
    );
    const peers: PeerClient = ctx.agent.peers;
    let reply: Awaited<ReturnType<PeerClient['call']>>;
    try {
      reply = await peers.call(
        `${primary.url}/v1/federation`,
        { service: 'route', params: { request, hops: [] } },
        { receiver: ids[0]!, timeoutMs: txOptions.timeoutMs ?? transactionTimeoutMs, ...(txOptions.signal ? { signal: txOptions.signal } : {}) },
      );
    } catch (e) {
      // The federation may have changed under the cached path: ask again next time.
      paths.delete(targetRegistry.replace(/\/+$/, ''));
      throw e;
    }
    const receipt = { request, ...(reply.result as Omit<RouteReceipt, 'request'>) };
    const verdict = verifyRouteReceipt(receipt);
    if (!verdict.valid) throw new SovError('ROUTE_TAMPERED', `The route receipt of ${request.id} does not verify: ${verdict.reason}`, { details: { hop: verdict.hop } });
    const outcome = receipt.answer.outcome;
    if (!outcome.success) {
      const code = isSovErrorCode(outcome.error.code) ? outcome.error.code : 'REMOTE_ERROR';
      throw new SovError(code, `${targetAgent} at ${receipt.request.targetRegistry} answered ${outcome.error.code}: ${outcome.error.message}`, { details: { receipt } });
    }
    return { result: outcome.result as T, receipt, path: hops };
  }

  const api: FederationApi = {
    findService: async (capability, requirements) => (await searchAll(capability, requirements, FIND_LIMIT)).results[0],
    searchAll,
    path,
    executeCrossRegistryTransaction,
    registries: () => links.map((l) => l.status()),
    clearCache: () => {
      cache.clear();
      paths.clear();
    },
  };

  const resolver = async (query: CallQuery, service: string, limit: number): Promise<CallTarget[] | undefined> => {
    if (!query.federated) return undefined;
    const [capability, ...more] = [...(query.capability ? [query.capability] : []), ...(query.capabilities ?? [])];
    if (!capability) throw new SovError('INVALID_INPUT', 'A federated call query needs a capability');
    const page = await searchAll(capability, {
      ...(more.length ? { capabilities: more } : {}),
      ...(query.minReputation !== undefined ? { minReputation: query.minReputation } : {}),
      ...(query.maxPrice !== undefined ? { maxPrice: query.maxPrice } : {}),
      service,
      // The failover's candidates, and one more in case this agent is among them.
      limit: Math.min(500, limit + 1),
    });
    return page.results
      .filter((m) => m.agent.id !== ctx?.agentId)
      .slice(0, limit)
      .map((m) => ({ id: m.agent.id, endpoint: m.agent.endpoint }));
  };

  return {
    name: 'federation',
    api,
    initialize(context) {
      ctx = context;
      logger = context.logger.child({ capability: 'federation' });
      clock = context.clock;
      const primaryUrl = options.primary ?? context.config.registryUrl;
      if (!primaryUrl) throw new SovError('INVALID_CONFIG', 'federation needs a primary registry: the primary option or the agent registryUrl');
      const seen = new Set<string>();
      links = [];
      for (const [i, url] of [primaryUrl, ...(options.registries ?? [])].entries()) {
        const link = new RegistryLink(url, i === 0, searchTimeoutMs, context.clock);
        if (seen.has(link.url)) continue;
        seen.add(link.url);
        links.push(link);
      }
      primary = links[0];
      context.addTargetResolver(resolver);
    },
    async start() {
      started = true;
      await Promise.all(links.map((l) => l.connect((e) => dropAgent(e.data.peer_id), logger!, connectTimeoutMs, clock!)));
    },
    async shutdown() {
      started = false;
      await Promise.all([...links, ...watched.values()].map((l) => l.close()));
      watched.clear();
      mirroredUrls = undefined;
      cache.clear();
      paths.clear();
    },
  };
}
