import type { ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  PeerClient,
  SovError,
  ValidationError,
  isRemoteError,
  isSovError,
  toSovError,
  type AgentRecord,
  type CallReceipt,
  type Clock,
  type FederatedSearchOutcome,
  type FederatedSearchPage,
  type FederatedSearchRecord,
  type Logger,
  type ReceiverBinding,
  type WireSuccess,
} from '@sov/core';
import { DEFAULT_SCORE_WEIGHTS, ajvProblems, createAjv, serviceScore, servicePrice, type ScoreWeights } from '@sov/core/internal';
import {
  NonceCache,
  RequestVerifier,
  signAnswerHop,
  signPeerList,
  signRequestHop,
  verifyAnswerHops,
  verifyFederatedRequest,
  verifyPeerList,
  verifyRequestHops,
  type FederatedAnswer,
  type FederatedOutcome,
  type FederatedRequest,
  type Identity,
  type RouteHop,
  type SignedPeerList,
} from '@sov/crypto';
import type { RegistryStore } from '../registryStore';
import { storeSearchOf } from '../internal/searchQuery';
import { toRecord } from '../storedAgent';
import { SCORE_FIELDS, federatedSearchSchema, federationRpcSchema, mirroredRecordSchema, peerParamsSchema, routeParamsSchema, routeReplySchema } from './federationSchemas';
import { PeerMirror, type PeerMirrorOptions, type PeerMirrorStatus } from './peerMirror';
import { shortestPath } from './shortestPath';

/** A peer registry this registry federates with: where it is and the id it must prove. */
export interface FederationPeer {
  /** Base URL of the peer registry. */
  url: string;
  /** The did:key the peer must sign with; a peer answering with another id is refused (ID_MISMATCH). */
  id: string;
}

/** How a registry mirrors its peers' listings for GET /v1/federation/search (RegistryFederationOptions.mirror). */
export interface FederationMirrorOptions {
  /** Most records kept of one peer; more are left out (the outcome says `truncated`), so no peer can fill this registry's memory. @default 10000 */
  maxRecordsPerPeer?: number;
  /** Most bytes (the records' JSON) kept of one peer; more records are left out as for maxRecordsPerPeer. @default 67108864 (64 MiB) */
  maxBytesPerPeer?: number;
  /**
   * How long a peer's records are still served after its event stream went
   * down, in ms; past it they are left out of federated answers (its outcome
   * is UNAVAILABLE) until the stream is back and resumed. @default 10000
   */
  staleAfterMs?: number;
  /** How often a full snapshot of each peer is taken again (heartbeat times and availability travel in no event), in ms. @default 60000 */
  resyncMs?: number;
  /** A peer stream that sends nothing this long (not even a keep-alive) is dropped and reconnected, in ms. @default 45000 */
  idleMs?: number;
  /** Longest wait between reconnects of a peer stream, in ms. @default 2000 */
  maxReconnectDelayMs?: number;
}

// The federated search answer is core's wire type (a client reads it too).
export type { FederatedSearchOutcome } from '@sov/core';

/** Options of a registry's federation (RegistryServerOptions.federation). */
export interface RegistryFederationOptions {
  /** The registry's own identity: its did:key is the registry id, shown at `/.well-known/sov-registry`. */
  identity: Identity;
  /** Peer registries; peering is mutual (each must list the other) and signed. @default [] */
  peers?: FederationPeer[];
  /** Most registry-to-registry hops a path may have; longer paths are refused (FEDERATION_HOP_LIMIT). @default 4 */
  maxHops?: number;
  /** How long a peer list fetched from another registry is trusted before it is fetched again, in ms. @default 30000 */
  graphTtlMs?: number;
  /** How often an unanswered peering is tried again, in ms. @default 5000 */
  retryMs?: number;
  /** Time budget of one call to a peer registry or to the target agent, in ms. @default 5000 */
  timeoutMs?: number;
  /** How old a routed request may be, in seconds (its id is remembered that long: no replay). @default 60 */
  windowSec?: number;
  /**
   * Mirror every active peer's listings (snapshot, then its event stream) and
   * answer GET /v1/federation/search from this registry's store and the
   * mirrors in one request. Only direct, mutual peers are mirrored, not
   * their peers. `false` turns it off (the route is then not served).
   * @default {} (on, with FederationMirrorOptions' defaults)
   */
  mirror?: FederationMirrorOptions | false;
}

/** A configured peer and how peering with it stands. */
export interface FederationPeerStatus {
  id: string;
  url: string;
  /** `active` once both sides proved their ids; `refused` when the peer proved another id than configured. */
  status: 'pending' | 'active' | 'refused';
  /** Why peering is not active yet (the last refusal or failure). */
  error?: { code: string; message: string };
}

/** What the federation needs of the registry server. */
export interface RegistryFederationDeps {
  store: RegistryStore;
  clock: Clock;
  logger: Logger;
  /** The request's parsed JSON body (depth-checked). */
  body(req: FastifyRequest): unknown;
  /** The authorities the registry answers to, once listening. */
  receiver(): ReceiverBinding | undefined;
  /** The registry's base URL, once listening. */
  url(): string | undefined;
  /**
   * A number that changes whenever the registry's own search results may
   * (joins, leaves, updates); with it, federated answers are cached for
   * `searchCacheMs` while it and every mirror stay the same. @default no caching
   */
  searchGeneration?(): number;
  /** How long a federated answer may be served again while nothing changed, in ms. @default 1000 */
  searchCacheMs?: number;
}

interface PeerState extends FederationPeerStatus {
  retryTimer?: unknown;
}

const MAX_LIST_BYTES = 256 * 1024;
/** The score's maxPrice when the query names none (the guide's, and @sov/federation's defaultMaxPrice). */
const DEFAULT_SCORE_MAX_PRICE = 1000;
/** Own matches read at once by a federated search. */
const OWN_PAGE = 500;
/** The query fields of a federated search that are numbers. */
const FEDERATED_NUMBERS: readonly string[] = ['minReputation', 'maxPrice', 'limit', ...SCORE_FIELDS];

function wireError(e: unknown): { code: string; message: string } {
  const err = toSovError(e);
  return { code: err.code, message: err.message };
}

/**
 * A registry's side of federation: its identity, its peers (mutual, signed
 * peering), the federation graph from signed peer lists, shortest paths, and
 * routed cross-registry transactions that every registry on the path checks
 * and countersigns going and returning.
 */
export class RegistryFederation {
  readonly id: string;
  private readonly identity: Identity;
  private readonly deps: RegistryFederationDeps;
  private readonly maxHops: number;
  private readonly graphTtlMs: number;
  private readonly retryMs: number;
  private readonly timeoutMs: number;
  private readonly windowSec: number;
  private readonly peers = new Map<string, PeerState>();
  /** Peer lists of other registries, by registry id, with when they were fetched. */
  private readonly lists = new Map<string, { list: SignedPeerList; at: number }>();
  private readonly verifier: RequestVerifier;
  private readonly routeIds: NonceCache;
  private readonly client: PeerClient;
  private readonly validate: Record<'rpc' | 'peer' | 'route' | 'reply' | 'search', ValidateFunction>;
  private ownList: SignedPeerList | undefined;
  private closed = false;
  private readonly mirrorOptions: PeerMirrorOptions | undefined;
  private readonly mirrors = new Map<string, PeerMirror>();
  private validRecord: ValidateFunction | undefined;
  /** Recent federated answers, serialised, by request URL; each valid while its stamp holds and until `until`. */
  private readonly answers = new Map<string, { stamp: string; until: number; body: string }>();

  constructor(options: RegistryFederationOptions, deps: RegistryFederationDeps) {
    this.identity = options.identity;
    this.id = options.identity.id;
    this.deps = deps;
    this.maxHops = options.maxHops ?? 4;
    this.graphTtlMs = options.graphTtlMs ?? 30_000;
    this.retryMs = options.retryMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.windowSec = options.windowSec ?? 60;
    if (!Number.isInteger(this.maxHops) || this.maxHops < 1 || this.maxHops > 16) {
      throw new SovError('INVALID_CONFIG', `federation.maxHops must be an integer from 1 to 16 (got ${options.maxHops})`);
    }
    for (const p of options.peers ?? []) {
      if (!URL.canParse(p.url) || !/^https?:/.test(p.url)) throw new SovError('INVALID_CONFIG', `federation peer url is not an http(s) URL: ${JSON.stringify(p.url)}`);
      if (p.id === this.id) throw new SovError('INVALID_CONFIG', `federation peer ${p.url} has this registry's own id`);
      if (this.peers.has(p.id)) throw new SovError('INVALID_CONFIG', `federation peer ${p.id} is configured twice`);
      this.peers.set(p.id, { id: p.id, url: p.url.replace(/\/+$/, ''), status: 'pending' });
    }
    this.verifier = new RequestVerifier({ clock: deps.clock, windowSec: this.windowSec });
    this.routeIds = new NonceCache({ clock: deps.clock });
    this.client = new PeerClient({ signer: options.identity.signer, timeoutMs: this.timeoutMs, clock: deps.clock, maxResponseBytes: 4 * 1024 * 1024 });
    const ajv = createAjv();
    this.validate = {
      rpc: ajv.compile(federationRpcSchema),
      peer: ajv.compile(peerParamsSchema),
      route: ajv.compile(routeParamsSchema),
      reply: ajv.compile(routeReplySchema),
      search: ajv.compile(federatedSearchSchema),
    };
    if (options.mirror !== false) {
      const m = options.mirror ?? {};
      const ms = (name: keyof FederationMirrorOptions, fallback: number) => {
        const v = m[name] ?? fallback;
        if (!Number.isInteger(v) || v < 1) throw new SovError('INVALID_CONFIG', `federation.mirror.${name} must be a positive integer (got ${m[name]})`);
        return v;
      };
      this.mirrorOptions = {
        maxRecords: ms('maxRecordsPerPeer', 10_000),
        maxBytes: ms('maxBytesPerPeer', 64 * 1024 * 1024),
        staleAfterMs: ms('staleAfterMs', 10_000),
        resyncMs: ms('resyncMs', 60_000),
        idleMs: ms('idleMs', 45_000),
        maxReconnectDelayMs: ms('maxReconnectDelayMs', 2000),
        timeoutMs: this.timeoutMs,
      };
      this.validRecord = ajv.compile(mirroredRecordSchema);
    }
  }

  /** Every configured peer and how peering with it stands. */
  peerStatus(): FederationPeerStatus[] {
    return [...this.peers.values()].map(({ id, url, status, error }) => ({ id, url, status, ...(error ? { error } : {}) }));
  }

  /** How each peer's mirror stands (empty with `mirror: false`). */
  mirrorStatus(): PeerMirrorStatus[] {
    return [...this.mirrors.values()].map((m) => m.status());
  }

  /**
   * A federated search: one page, the best `limit` matches across this
   * registry's own listings and every fresh peer mirror, ranked by the
   * guide's score (the one @sov/federation ranks with; weights, maxPrice and
   * service from the query). An agent listed by several registries is one
   * result: this registry's record when it lists it (with the primary
   * bonus), else the first peer's in configured order, with every registry
   * that lists it. With every configured peer's outcome: `count` of its
   * agents on the page, `total` of its matches.
   */
  async federatedSearch(query: Record<string, string | string[] | undefined>): Promise<
    Omit<FederatedSearchPage, 'nextCursor'> & {
      /** Until when the answer holds while nothing changes (the first own lease to end, a mirror turning stale). */
      validUntil: number;
    }
  > {
    let fields: Record<string, unknown> = {};
    const search = storeSearchOf(
      query,
      (q) => {
        if (!this.validate.search(q)) throw new ValidationError('federated search', ajvProblems(this.validate.search.errors));
        fields = q;
      },
      FEDERATED_NUMBERS,
    );
    if (search.cursor !== undefined) {
      throw new ValidationError('federated search', [{ path: '/cursor', message: 'is not supported: a federated search answers the best page only' }]);
    }
    const weights: ScoreWeights = {
      reputation: (fields.weightReputation as number | undefined) ?? DEFAULT_SCORE_WEIGHTS.reputation,
      price: (fields.weightPrice as number | undefined) ?? DEFAULT_SCORE_WEIGHTS.price,
      availability: (fields.weightAvailability as number | undefined) ?? DEFAULT_SCORE_WEIGHTS.availability,
      primary: (fields.weightPrimary as number | undefined) ?? DEFAULT_SCORE_WEIGHTS.primary,
    };
    const maxPrice = (fields.scoreMaxPrice as number | undefined) ?? search.maxPrice ?? DEFAULT_SCORE_MAX_PRICE;
    const service = (fields.service as string | undefined) ?? search.capabilities?.[0] ?? '';
    const now = this.deps.clock.now();
    const cap = this.mirrorOptions!.maxRecords;
    // Every match gets a small entry; only the page's records are copied with their tags.
    const merged = new Map<string, { record: AgentRecord; registries: string[]; score: number }>();
    const add = (record: AgentRecord, registry: string) => {
      const seen = merged.get(record.id);
      if (seen) seen.registries.push(registry);
      else merged.set(record.id, { record, registries: [registry], score: 0 });
    };

    // Every own match (up to the mirrors' maxRecordsPerPeer), page by page: the best page may hold any of them.
    let validUntil = Infinity;
    let ownCount = 0;
    let ownTotal = 0;
    for (let cursor: string | undefined, more = true; more && ownCount < cap; ) {
      const page = await this.deps.store.search({ ...search, limit: Math.min(OWN_PAGE, cap - ownCount), ...(cursor ? { cursor } : {}) }, now);
      ownTotal = page.total;
      for (const a of page.agents) {
        if (a.expiresAtMs < validUntil) validUntil = a.expiresAtMs;
        add(toRecord(a, now), this.id);
      }
      ownCount += page.agents.length;
      more = page.nextCursor !== null && page.agents.length > 0;
      cursor = page.nextCursor ?? undefined;
    }
    const registries: FederatedSearchOutcome[] = [
      { id: this.id, url: this.deps.url() ?? '', self: true, ok: true, connected: true, count: 0, total: ownTotal, ...(ownTotal > ownCount ? { truncated: true } : {}) },
    ];
    for (const peer of this.peers.values()) {
      const mirror = this.mirrors.get(peer.id);
      if (!mirror) {
        const why = peer.status === 'refused' ? 'peering was refused' : 'peering is not active yet';
        registries.push({ id: peer.id, url: peer.url, self: false, ok: false, connected: false, count: 0, total: 0, error: { code: 'UNAVAILABLE', message: `${peer.url} is not mirrored: ${why}` } });
        continue;
      }
      const answer = await mirror.search({ ...search, limit: cap }, now);
      validUntil = Math.min(validUntil, mirror.freshUntil(now));
      const st = mirror.status();
      registries.push({
        id: peer.id,
        url: peer.url,
        self: false,
        ok: answer.ok,
        connected: st.connected,
        ...(st.lastEventAt ? { lastEventAt: st.lastEventAt } : {}),
        count: 0,
        total: answer.ok ? answer.total : 0,
        ...(st.dropped > 0 ? { truncated: true } : {}),
        ...(answer.ok ? {} : { error: answer.error }),
      });
      if (answer.ok) for (const r of answer.agents) add(r, peer.id);
    }

    const ranked = [...merged.values()];
    for (const m of ranked) {
      // The own store is read first: an agent it lists has its record and the primary bonus.
      const r = m.record;
      m.score = serviceScore({ reputation: r.reputation, availability: r.availability, price: servicePrice(r, service), maxPrice, fromPrimary: m.registries[0] === this.id }, weights);
    }
    ranked.sort((a, b) => b.score - a.score || (a.record.id < b.record.id ? -1 : 1));
    const agents: FederatedSearchRecord[] = ranked.slice(0, search.limit).map((m) => ({ ...m.record, registry: m.registries[0]!, registries: m.registries, score: m.score }));
    const counts = new Map<string, number>();
    for (const a of agents) for (const r of a.registries) counts.set(r, (counts.get(r) ?? 0) + 1);
    for (const o of registries) o.count = counts.get(o.id) ?? 0;
    return { agents, total: merged.size, registries, validUntil };
  }

  /** What a cached federated answer must match: the own store's generation and every mirror's changes; undefined: no caching. */
  private answerStamp(): string | undefined {
    const generation = this.deps.searchGeneration?.();
    if (generation === undefined || (this.deps.searchCacheMs ?? 1000) <= 0) return undefined;
    let stamp = String(generation);
    for (const m of this.mirrors.values()) stamp += `,${m.changes}`;
    return stamp;
  }

  /** Mounts the federation routes and starts peering once the registry listens. */
  mount(app: FastifyInstance): void {
    app.addHook('onListen', (done) => {
      // The registry learns its own URL right after listen resolves.
      setImmediate(() => this.peerAll());
      done();
    });
    app.addHook('onClose', async () => {
      this.closed = true;
      for (const p of this.peers.values()) if (p.retryTimer !== undefined) this.deps.clock.clearTimeout(p.retryTimer);
      await Promise.all([...this.mirrors.values()].map((m) => m.close()));
      await this.client.close();
    });

    app.get('/.well-known/sov-registry', () => ({
      success: true,
      registry: { id: this.id, url: this.deps.url(), maxHops: this.maxHops, peers: this.peers.size },
    }));

    app.get('/v1/federation/peers', () => ({
      success: true,
      registry: this.id,
      peers: this.peerStatus().map((p) => {
        const mirror = this.mirrors.get(p.id)?.status();
        return mirror ? { ...p, mirror } : p;
      }),
      list: this.list(),
    }));

    if (this.mirrorOptions) {
      app.get('/v1/federation/search', async (req, reply) => {
        const now = this.deps.clock.now();
        const stamp = this.answerStamp();
        const hit = stamp === undefined ? undefined : this.answers.get(req.url);
        let body: string;
        if (hit && hit.stamp === stamp && hit.until > now) {
          body = hit.body;
        } else {
          const { validUntil, ...page } = await this.federatedSearch(req.query as Record<string, string | string[] | undefined>);
          body = JSON.stringify({ success: true, ...page, nextCursor: null } satisfies WireSuccess<FederatedSearchPage>);
          if (stamp !== undefined) {
            this.answers.delete(req.url);
            this.answers.set(req.url, { stamp, until: Math.min(validUntil, now + (this.deps.searchCacheMs ?? 1000)), body });
            if (this.answers.size > 1000) this.answers.delete(this.answers.keys().next().value!);
          }
        }
        return reply.type('application/json; charset=utf-8').serializer((b: unknown) => b as string).send(body);
      });
    }

    app.get('/v1/federation/path', async (req) => {
      const q = req.query as Record<string, string | string[] | undefined>;
      const to = Array.isArray(q.to) ? q.to[0] : q.to;
      if (!to) throw new ValidationError('federation path', [{ path: '/to', message: 'is required: a registry id (did:key) or URL' }]);
      let limit = this.maxHops;
      if (q.maxHops !== undefined) {
        const n = Number(Array.isArray(q.maxHops) ? q.maxHops[0] : q.maxHops);
        if (!Number.isInteger(n) || n < 1 || n > this.maxHops) {
          throw new ValidationError('federation path', [{ path: '/maxHops', message: `must be an integer from 1 to ${this.maxHops}` }]);
        }
        limit = n;
      }
      const path = await this.findPath(to.replace(/\/+$/, ''), limit);
      return { success: true, path, hops: path.length - 1 };
    });

    app.post('/v1/federation/rpc', async (req) => {
      const caller = await this.verify(req);
      const body = this.deps.body(req);
      if (!this.validate.rpc(body)) throw new ValidationError('federation call', ajvProblems(this.validate.rpc.errors));
      const { service, params } = body as { service: 'peer' | 'route'; params: unknown };
      if (service === 'peer') return { success: true, result: this.acceptPeering(caller, params) };
      return { success: true, result: await this.route(caller, params) };
    });
  }

  /** This registry's signed list of its configured peers. */
  list(): SignedPeerList {
    this.ownList ??= signPeerList(
      {
        registry: this.id,
        url: this.deps.url() ?? '',
        peers: [...this.peers.values()].map(({ id, url }) => ({ id, url })),
        issuedAt: new Date(this.deps.clock.now()).toISOString(),
      },
      (d) => this.identity.sign(d),
    );
    return this.ownList;
  }

  /**
   * The shortest path of registries from this one to `target` (an id or a
   * URL), over mutual peerings only, within `maxHops`. NO_FEDERATION_PATH
   * when there is none.
   */
  async findPath(target: string, maxHops = this.maxHops): Promise<Array<{ id: string; url: string }>> {
    const urls = new Map<string, string>([[this.id, this.deps.url() ?? '']]);
    const isTarget = (id: string) => id === target || urls.get(id) === target;
    const ids = await shortestPath(this.id, isTarget, maxHops, async (id) => {
      if (id === this.id) {
        const active = [...this.peers.values()].filter((p) => p.status === 'active');
        for (const p of active) urls.set(p.id, p.url);
        return active.map((p) => p.id);
      }
      const list = await this.listOf(id, urls.get(id)!);
      if (!list) return [];
      // An edge counts only when both registries list each other.
      const mutual = await Promise.all(
        list.peers.map(async (p) => {
          if (p.id === this.id) return this.peers.get(id)?.status === 'active';
          const theirs = await this.listOf(p.id, p.url);
          if (!theirs?.peers.some((q) => q.id === id)) return false;
          urls.set(p.id, theirs.url);
          return true;
        }),
      );
      return list.peers.filter((_, i) => mutual[i]).map((p) => p.id);
    });
    if (!ids) {
      throw new SovError('NO_FEDERATION_PATH', `No federation path from ${this.id} to ${target} within ${maxHops} hops`);
    }
    return ids.map((id) => ({ id, url: urls.get(id) ?? '' }));
  }

  private async verify(req: FastifyRequest) {
    const receiver = this.deps.receiver();
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    return this.verifier.verify({
      method: req.method,
      path: req.url,
      authority: req.headers.host ?? '',
      headers: req.headers,
      body: raw,
      receiver: { id: this.id, authorities: receiver?.authorities ?? new Set() },
    });
  }

  // ---- peering -------------------------------------------------------------

  private peerAll(): void {
    for (const p of this.peers.values()) void this.peerWith(p);
  }

  private async peerWith(peer: PeerState): Promise<void> {
    if (this.closed || peer.status !== 'pending') return;
    try {
      const reply = await this.client.call(`${peer.url}/v1/federation`, { service: 'peer', params: { list: this.list() } }, { receiver: peer.id });
      const list = (reply.result as { list?: SignedPeerList } | undefined)?.list;
      if (!list || !this.validate.peer({ list }) || !verifyPeerList(list)) {
        throw new SovError('SIGNATURE_INVALID', `The peer at ${peer.url} answered without a peer list signed by its registry`);
      }
      if (list.registry !== peer.id) throw new SovError('ID_MISMATCH', `The registry at ${peer.url} is ${list.registry}, configured as ${peer.id}`);
      if (!list.peers.some((p) => p.id === this.id)) throw new SovError('FORBIDDEN', `Peering is mutual: the list of ${peer.id} does not name this registry (${this.id})`);
      this.activate(peer, list);
    } catch (e) {
      const err = toSovError(e);
      // The registry at that URL could not prove the configured id: refused, not retried.
      if (err.code === 'ID_MISMATCH' || err.code === 'WRONG_RECEIVER') {
        peer.status = 'refused';
        peer.error = { code: 'ID_MISMATCH', message: `The registry at ${peer.url} is not ${peer.id}: ${err.message}` };
        this.deps.logger.warn('federation peer refused', { peer: peer.url, code: err.code, error: err.message });
        return;
      }
      peer.error = wireError(e);
      this.deps.logger.warn('federation peer not reached; retrying', { peer: peer.url, code: err.code, error: err.message });
      if (!this.closed) peer.retryTimer = this.deps.clock.setTimeout(() => void this.peerWith(peer), this.retryMs);
    }
  }

  private activate(peer: PeerState, list: SignedPeerList): void {
    if (peer.retryTimer !== undefined) this.deps.clock.clearTimeout(peer.retryTimer);
    peer.retryTimer = undefined;
    if (peer.status !== 'active') this.deps.logger.info('federation peer active', { peer: peer.id, url: peer.url });
    peer.status = 'active';
    delete peer.error;
    this.lists.set(peer.id, { list, at: this.deps.clock.now() });
    this.mirror(peer);
  }

  /** Starts mirroring an active peer; one already mirrored that peers again (it restarted) is followed afresh, with a new snapshot. */
  private mirror(peer: PeerState): void {
    if (!this.mirrorOptions || !this.validRecord || this.closed) return;
    const known = this.mirrors.get(peer.id);
    if (known) return known.restart();
    const mirror = new PeerMirror({ id: peer.id, url: peer.url }, this.mirrorOptions, {
      clock: this.deps.clock,
      logger: this.deps.logger,
      validRecord: this.validRecord,
    });
    this.mirrors.set(peer.id, mirror);
    mirror.start();
  }

  private acceptPeering(caller: { id: string }, params: unknown): { list: SignedPeerList } {
    if (!this.validate.peer(params)) throw new ValidationError('peering', ajvProblems(this.validate.peer.errors));
    const { list } = params as { list: SignedPeerList };
    if (!verifyPeerList(list)) throw new SovError('SIGNATURE_INVALID', `The peer list of ${list.registry} is not signed by it`);
    if (list.registry !== caller.id) throw new SovError('ID_MISMATCH', `The peering request is signed by ${caller.id} but carries the list of ${list.registry}`);
    const peer = this.peers.get(caller.id);
    if (!peer) {
      const sameUrl = [...this.peers.values()].find((p) => p.url === list.url.replace(/\/+$/, ''));
      if (sameUrl) throw new SovError('ID_MISMATCH', `The registry at ${list.url} is configured here as ${sameUrl.id}, not ${caller.id}`);
      throw new SovError('FORBIDDEN', `Registry ${caller.id} is not a configured peer of ${this.id}`);
    }
    if (!list.peers.some((p) => p.id === this.id)) {
      throw new SovError('FORBIDDEN', `Peering is mutual: the list of ${caller.id} does not name this registry (${this.id})`);
    }
    if (peer.status === 'refused') throw new SovError('ID_MISMATCH', `Peering with ${peer.url} was refused: ${peer.error?.message ?? ''}`);
    this.activate(peer, list);
    return { list: this.list() };
  }

  /** A registry's signed peer list: cached for graphTtlMs, fetched from its URL and checked against the id expected. */
  private async listOf(id: string, url: string): Promise<SignedPeerList | undefined> {
    if (id === this.id) return this.list();
    const cached = this.lists.get(id);
    if (cached && this.deps.clock.now() - cached.at < this.graphTtlMs) return cached.list;
    try {
      const res = await fetch(`${url.replace(/\/+$/, '')}/v1/federation/peers`, { signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await res.text();
      if (text.length > MAX_LIST_BYTES) throw new SovError('RESPONSE_TOO_LARGE', `The peer list at ${url} is over ${MAX_LIST_BYTES} bytes`);
      const list = (JSON.parse(text) as { list?: SignedPeerList }).list;
      if (!list || !this.validate.peer({ list }) || !verifyPeerList(list) || list.registry !== id) {
        throw new SovError('SIGNATURE_INVALID', `The registry at ${url} did not answer with a peer list signed by ${id}`);
      }
      this.lists.set(id, { list, at: this.deps.clock.now() });
      return list;
    } catch (e) {
      this.deps.logger.warn('federation peer list unavailable', { registry: id, url, error: toSovError(e).message });
      // A stale list is better than none while its registry is briefly unreachable.
      return cached?.list;
    }
  }

  // ---- routing -------------------------------------------------------------

  private async route(caller: { id: string }, params: unknown): Promise<{ hops: RouteHop[]; answer: FederatedAnswer; returns: RouteHop[] }> {
    if (!this.validate.route(params)) throw new ValidationError('routed request', ajvProblems(this.validate.route.errors));
    const { request, hops } = params as { request: FederatedRequest; hops: RouteHop[] };
    const path = request.path;
    const index = hops.length;
    if (new Set(path).size !== path.length) throw new SovError('FEDERATION_LOOP', `The path names a registry twice: ${path.join(' -> ')}`);
    if (path.length - 1 > this.maxHops) {
      throw new SovError('FEDERATION_HOP_LIMIT', `The path has ${path.length - 1} hops; ${this.id} allows at most ${this.maxHops}`);
    }
    if (path[0] !== request.sourceRegistry || path[path.length - 1] !== request.targetRegistry) {
      throw new ValidationError('routed request', [{ path: '/request/path', message: 'must start at sourceRegistry and end at targetRegistry' }]);
    }
    if (path[index] !== this.id) {
      throw new SovError('FEDERATION_WRONG_HOP', `This registry (${this.id}) is not hop ${index} of the signed path ${path.join(' -> ')}`);
    }
    const expectedCaller = index === 0 ? request.origin : path[index - 1]!;
    if (caller.id !== expectedCaller) {
      throw new SovError('FEDERATION_WRONG_HOP', `Hop ${index} must come from ${expectedCaller}; this one is signed by ${caller.id}`);
    }
    // The origin's signature, and the previous hop's (which covers the one before it, checked by that hop).
    const going =
      index <= 1
        ? verifyRequestHops(request, hops)
        : verifyFederatedRequest(request)
          ? verifyRequestHops(request, hops, { from: index - 1 })
          : { valid: false as const, reason: `the request is not signed by its origin ${request.origin} as it reads now` };
    if (!going.valid) throw new SovError('ROUTE_TAMPERED', `Routed request ${request.id} refused at ${this.id}: ${going.reason}`);
    const created = Date.parse(request.timestamp);
    const now = this.deps.clock.now();
    if (Number.isNaN(created) || created > now + 5000 || now - created >= this.windowSec * 1000) {
      throw new SovError('SIGNATURE_EXPIRED', `Routed request ${request.id} is dated ${request.timestamp}, outside this registry's ${this.windowSec} s window`);
    }
    const next = path[index + 1];
    const nextPeer = next === undefined ? undefined : this.peers.get(next);
    if (next !== undefined && nextPeer?.status !== 'active') {
      throw new SovError('NO_FEDERATION_PATH', `Registry ${this.id} has no active peering with ${next}, the next hop`);
    }
    if (this.routeIds.add(`${request.origin} ${request.id}`, created + this.windowSec * 1000) !== 'fresh') {
      throw new SovError('REPLAY_DETECTED', `Routed request ${request.id} from ${request.origin} was already seen at ${this.id}`);
    }
    const mine = signRequestHop(request, hops, (d) => this.identity.sign(d));
    const sent = [...hops, mine];
    this.deps.logger.info('federated request', { requestId: request.id, origin: request.origin, hop: index, of: path.length });
    if (!nextPeer) {
      const answer = await this.deliver(request);
      return { hops: sent, answer, returns: [signAnswerHop(request, sent, answer, [], (d) => this.identity.sign(d))] };
    }
    const reply = await this.client.call(
      `${nextPeer.url}/v1/federation`,
      { service: 'route', params: { request, hops: sent } },
      { receiver: nextPeer.id, timeoutMs: this.timeoutMs * (path.length - index) },
    );
    const downstream = reply.result as { hops: RouteHop[]; answer: FederatedAnswer; returns: RouteHop[] };
    if (!this.validate.reply(downstream)) throw new SovError('ROUTE_TAMPERED', `The answer from ${nextPeer.id} is malformed`);
    const prefixKept = sent.every((h, i) => downstream.hops[i]?.signature === h.signature && downstream.hops[i]?.registry === h.registry);
    // The next registry's countersignature, the one this registry signs after; the origin checks the whole receipt.
    const back = prefixKept
      ? verifyAnswerHops(request, downstream.hops, downstream.answer, downstream.returns, { first: 1 })
      : { valid: false as const, reason: 'it changed the signatures sent to it' };
    if (!back.valid || downstream.hops.length !== path.length || downstream.returns.length !== path.length - index - 1) {
      throw new SovError('ROUTE_TAMPERED', `The answer to ${request.id} from ${nextPeer.id} does not verify: ${back.valid ? 'returning signatures are missing' : back.reason}`);
    }
    const returning = signAnswerHop(request, downstream.hops, downstream.answer, downstream.returns, (d) => this.identity.sign(d));
    return { hops: downstream.hops, answer: downstream.answer, returns: [returning, ...downstream.returns] };
  }

  /** The last registry calls the target agent (signed for it) and keeps whatever it answered. */
  private async deliver(request: FederatedRequest): Promise<FederatedAnswer> {
    const agent = await this.deps.store.get(request.targetAgent);
    if (!agent || agent.expiresAtMs <= this.deps.clock.now()) {
      throw new SovError('NOT_FOUND', `No agent registered with id ${request.targetAgent} at ${this.id}`);
    }
    let outcome: FederatedOutcome;
    let receipt: CallReceipt | undefined;
    try {
      const op = request.operation;
      const reply = await this.client.call(
        agent.endpoint,
        op.params === undefined ? { service: op.service } : { service: op.service, params: op.params },
        { receiver: agent.id, receipt: true, timeoutMs: this.timeoutMs },
      );
      outcome = { success: true, result: reply.result ?? null };
      receipt = reply.receipt as CallReceipt | undefined;
    } catch (e) {
      if (!isSovError(e)) throw e;
      outcome = { success: false, error: isRemoteError(e) ? { code: e.code, message: e.message } : wireError(e) };
    }
    return { outcome, at: new Date(this.deps.clock.now()).toISOString(), ...(receipt ? { receipt } : {}) };
  }
}

/** Mounts a registry's federation routes (see RegistryServerOptions.federation); returns the federation. */
export function federationRoutes(app: FastifyInstance, options: RegistryFederationOptions, deps: RegistryFederationDeps): RegistryFederation {
  const federation = new RegistryFederation(options, deps);
  federation.mount(app);
  return federation;
}
