import { Pool } from 'undici';
import {
  NetworkError,
  RemoteError,
  SovError,
  TimeoutError,
  isSovError,
  isWireFailure,
  type Clock,
  type FederatedSearchOutcome,
  type FederatedSearchPage,
  type FederatedSearchRecord,
  type SearchPage,
  type SearchQuery,
} from '@sov/core';
import { searchQueryString, type ScoreWeights } from '@sov/core/internal';

const MAX_BYTES = 8 * 1024 * 1024;

/** How the primary ranks its federated search page: the guide's score, as this agent computes it. */
export interface PageRanking {
  service: string;
  maxPrice: number;
  weights: Readonly<ScoreWeights>;
}

/** What the primary's federated search answer (`GET /v1/federation/search`) is read for. */
export type MirroredPage = Pick<FederatedSearchPage, 'agents' | 'registries'>;

/**
 * Searches one registry (`GET /v1/agents`, or its federated search
 * `GET /v1/federation/search`) over a keep-alive undici pool.
 * A federated search sends one of these to every registry at once, so each
 * costs as little client time as it can: no fetch Request/Response objects
 * per call, one deadline timer from the clock. Failures are SovErrors: the
 * registry's code, TIMEOUT, NETWORK_ERROR, RESPONSE_TOO_LARGE.
 */
export class SearchClient {
  private readonly pool: Pool;
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.baseUrl = baseUrl;
    // undici refuses a larger body itself (UND_ERR_RES_EXCEEDED_MAX_SIZE) while reading it.
    this.pool = new Pool(baseUrl, { connections: 8, keepAliveTimeout: 10_000, maxResponseSize: MAX_BYTES });
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const { body, url, status } = await this.get(`/v1/agents?${searchQueryString(query)}`);
    const page = body as Partial<SearchPage> & { success?: unknown };
    if (page.success !== true || !Array.isArray(page.agents)) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: 'the answer is not a search page', status, method: 'GET', url });
    }
    return { agents: page.agents, total: page.total ?? page.agents.length, nextCursor: page.nextCursor ?? null };
  }

  /**
   * The registry's federated search: the best `query.limit` of its own
   * listings and its peers' mirrored ones, ranked by `ranking`, each tagged
   * with its registries.
   */
  async federatedSearch(query: SearchQuery, ranking: PageRanking): Promise<MirroredPage> {
    const w = ranking.weights;
    const score =
      `service=${encodeURIComponent(ranking.service)}&scoreMaxPrice=${ranking.maxPrice}&weightReputation=${w.reputation}` +
      `&weightPrice=${w.price}&weightAvailability=${w.availability}&weightPrimary=${w.primary}`;
    const qs = searchQueryString(query);
    const { body, url, status } = await this.get(`/v1/federation/search?${qs ? `${qs}&` : ''}${score}`);
    const page = body as { success?: unknown; agents?: unknown; registries?: unknown };
    const registries = page.registries as FederatedSearchOutcome[] | undefined;
    if (
      page.success !== true ||
      !Array.isArray(page.agents) ||
      !Array.isArray(registries) ||
      !registries.every((r) => typeof r?.id === 'string' && typeof r.url === 'string' && typeof r.ok === 'boolean') ||
      !(page.agents as Array<Partial<FederatedSearchRecord>>).every((a) => typeof a?.id === 'string' && Array.isArray(a.registries))
    ) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: 'the answer is not a federated search page', status, method: 'GET', url });
    }
    return { agents: page.agents as FederatedSearchRecord[], registries };
  }

  private async get(path: string): Promise<{ body: unknown; url: string; status: number }> {
    const url = `${this.baseUrl}${path}`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = this.clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const res = await this.pool.request({ method: 'GET', path, signal: controller.signal });
      let text: string;
      try {
        text = await res.body.text();
      } catch (cause) {
        if ((cause as { code?: unknown }).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
          throw new SovError('RESPONSE_TOO_LARGE', `GET ${url} answered more than ${MAX_BYTES} bytes`, { cause });
        }
        throw cause;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw new RemoteError({ code: 'REMOTE_ERROR', message: `not a JSON answer: ${text.slice(0, 120)}`, status: res.statusCode, method: 'GET', url }, { cause });
      }
      if (isWireFailure(body)) throw new RemoteError({ code: body.error.code, message: body.error.message, status: res.statusCode, method: 'GET', url });
      return { body, url, status: res.statusCode };
    } catch (e) {
      if (timedOut) throw new TimeoutError(`GET ${url}`, this.timeoutMs, { cause: e });
      if (isSovError(e)) throw e;
      throw new NetworkError('GET', url, { cause: e });
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
