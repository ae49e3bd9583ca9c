import ky, { type KyInstance } from 'ky';
import { jsonRequest } from './internal/jsonRequest';
import type { Signer } from './ports';
import { RegistryEventStream, type RegistryEventSubscription, type RegistryEventsOptions } from './registryEvents';
import type { AgentRecord, AgentRegistration, AgentRequest, Feedback, Lease, SearchPage, SearchQuery, StakeBalance } from './wire';

/** What registering answers. */
export interface RegisterResult {
  agent: AgentRecord;
  lease: Lease;
}

/**
 * The registry operations an agent uses. HttpRegistryClient talks to a real
 * registry; @sov/testing's MockRegistry implements the same interface.
 */
export interface RegistryClient {
  register(registration: AgentRegistration): Promise<RegisterResult>;
  /** Renews the lease; throws NOT_FOUND (or LEASE_EXPIRED) when the registry no longer knows the agent. */
  heartbeat(agentId: string): Promise<Lease>;
  deregister(agentId: string): Promise<void>;
  get(agentId: string): Promise<AgentRecord>;
  search(query: SearchQuery): Promise<SearchPage>;
  /** Replaces the agent's public metadata (signed); returns the updated record. */
  updateMetadata(agentId: string, metadata: Record<string, unknown>): Promise<AgentRecord>;
  /** Anyone may read anyone's stake. */
  getStake(agentId: string): Promise<StakeBalance>;
  /** Rates a served call; needs the receipt the rated agent signed. Returns the rated agent's new reputation. */
  submitFeedback(feedback: Feedback): Promise<{ agentId: string; reputation: number }>;
  /**
   * Asks the registry to tell an agent about a request (a `new_request`
   * event that only that agent's signed subscription receives, naming the
   * sender as `from`). Signed when the client has a signer; the registry may
   * refuse anonymous senders. Resolves to the registry's id for the request.
   */
  sendRequest(agentId: string, request: AgentRequest): Promise<{ requestId: string }>;
  /** Streams registry events, reconnecting and resuming on its own. */
  subscribe(options?: RegistryEventsOptions): RegistryEventSubscription;
}

/** Options of HttpRegistryClient. */
export interface HttpRegistryClientOptions {
  /** Registry base URL, e.g. `http://127.0.0.1:7000`. */
  baseUrl: string;
  /** Time budget of each call in ms; nothing hangs. @default 5000 */
  timeoutMs?: number;
  /** Signs every request when given (an agent's identity). */
  signer?: Signer;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** The registry operator's token; only needed to credit or debit stakes. Never logged. */
  operatorToken?: string;
}

/**
 * The query string of a registry search (`GET /v1/agents?...`), without the
 * `?`: one `capability` per capability, then the filters and the page.
 *
 * @example
 * searchQueryString({ capabilities: ['translate'], maxPrice: 5 }); // 'capability=translate&maxPrice=5'
 */
export function searchQueryString(query: SearchQuery): string {
  const params = new URLSearchParams();
  for (const c of query.capabilities ?? []) params.append('capability', c);
  if (query.minReputation !== undefined) params.set('minReputation', String(query.minReputation));
  if (query.maxPrice !== undefined) params.set('maxPrice', String(query.maxPrice));
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.cursor !== undefined) params.set('cursor', query.cursor);
  return params.toString();
}

/**
 * A RegistryClient over HTTP (ky). Every call has a timeout, errors come back
 * as SovErrors carrying the registry's code, and requests are signed when a
 * signer is given.
 *
 * @example
 * const registry = new HttpRegistryClient({ baseUrl: 'http://127.0.0.1:7000' });
 * const { agents } = await registry.search({ capabilities: ['summarise'] });
 */
export class HttpRegistryClient implements RegistryClient {
  readonly baseUrl: string;
  private readonly http: KyInstance;
  private readonly signer: Signer | undefined;
  private readonly timeoutMs: number;
  private readonly operatorToken: string | undefined;

  constructor(options: HttpRegistryClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.signer = options.signer;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.operatorToken = options.operatorToken;
    this.http = ky.create({
      timeout: this.timeoutMs,
      retry: 0,
      throwHttpErrors: false,
      headers: options.headers ?? {},
    });
  }

  async register(registration: AgentRegistration): Promise<RegisterResult> {
    return this.call<RegisterResult>('POST', '/v1/agents', registration);
  }

  async heartbeat(agentId: string): Promise<Lease> {
    const { lease } = await this.call<{ lease: Lease }>('POST', `/v1/agents/${encodeURIComponent(agentId)}/heartbeat`, {});
    return lease;
  }

  async deregister(agentId: string): Promise<void> {
    await this.call('DELETE', `/v1/agents/${encodeURIComponent(agentId)}`);
  }

  async get(agentId: string): Promise<AgentRecord> {
    const { agent } = await this.call<{ agent: AgentRecord }>('GET', `/v1/agents/${encodeURIComponent(agentId)}`);
    return agent;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const qs = searchQueryString(query);
    return this.call<SearchPage>('GET', `/v1/agents${qs ? `?${qs}` : ''}`);
  }

  async updateMetadata(agentId: string, metadata: Record<string, unknown>): Promise<AgentRecord> {
    const { agent } = await this.call<{ agent: AgentRecord }>('PUT', `/v1/agents/${encodeURIComponent(agentId)}/metadata`, { metadata });
    return agent;
  }

  async getStake(agentId: string): Promise<StakeBalance> {
    const { stake } = await this.call<{ stake: StakeBalance }>('GET', `/v1/stakes/${encodeURIComponent(agentId)}`);
    return stake;
  }

  /** Operator only: adds `amount` to an agent's stake (needs `operatorToken`). */
  async creditStake(agentId: string, amount: number): Promise<StakeBalance> {
    return this.operatorCall(agentId, 'credit', amount);
  }

  /** Operator only: takes `amount` from an agent's stake (needs `operatorToken`); never below zero. */
  async debitStake(agentId: string, amount: number): Promise<StakeBalance> {
    return this.operatorCall(agentId, 'debit', amount);
  }

  async submitFeedback(feedback: Feedback): Promise<{ agentId: string; reputation: number }> {
    const { agentId, reputation } = await this.call<{ agentId: string; reputation: number }>('POST', '/v1/feedback', feedback);
    return { agentId, reputation };
  }

  async sendRequest(agentId: string, request: AgentRequest): Promise<{ requestId: string }> {
    const body = request.params === undefined ? { service: request.service } : { service: request.service, params: request.params };
    const { requestId } = await this.call<{ requestId: string }>('POST', `/v1/agents/${encodeURIComponent(agentId)}/requests`, body);
    return { requestId };
  }

  subscribe(options: RegistryEventsOptions = {}): RegistryEventStream {
    return new RegistryEventStream(this.baseUrl, { ...(this.signer ? { signer: this.signer } : {}), ...options }).start();
  }

  private async operatorCall(agentId: string, op: 'credit' | 'debit', amount: number): Promise<StakeBalance> {
    const { stake } = await jsonRequest<{ stake: StakeBalance }>({
      http: this.http,
      method: 'POST',
      url: `${this.baseUrl}/v1/stakes/${encodeURIComponent(agentId)}/${op}`,
      body: { amount },
      signer: undefined,
      timeoutMs: this.timeoutMs,
      headers: this.operatorToken ? { authorization: `Bearer ${this.operatorToken}` } : {},
    });
    return stake;
  }

  /** Sends one request and returns the success body, or throws a SovError. */
  protected call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return jsonRequest<T>({ http: this.http, method, url: `${this.baseUrl}${path}`, body, signer: this.signer, timeoutMs: this.timeoutMs });
  }
}
