import type {
  AgentRecord,
  AgentRegistration,
  AgentRequest,
  Feedback,
  Lease,
  RegisterResult,
  RegistryClient,
  RegistryEventSubscription,
  RegistryEventsOptions,
  SearchPage,
  SearchQuery,
  StakeBalance,
} from '@sov/core';
import type { RetryPolicy } from './retryPolicy';

/**
 * A RegistryClient that retries: registration, metadata updates, lookups,
 * searches and stake reads go through a RetryPolicy, so an agent whose
 * registry comes up late (or blinks) still starts. Feedback is not retried
 * (its receipt is single-use) and the event stream reconnects on its own. The heartbeat is not retried: the next beat is its retry, and
 * a NOT_FOUND must reach the agent at once so it registers again. Nor is
 * deregistration: it runs during shutdown, against a deadline, and a lease
 * that is not renewed expires anyway.
 *
 * @example
 * ctx.setRegistry(new ResilientRegistryClient(ctx.registry, new RetryPolicy({ maxAttempts: 8 })));
 */
export class ResilientRegistryClient implements RegistryClient {
  constructor(
    private readonly inner: RegistryClient,
    private readonly retry: RetryPolicy,
    private readonly onSuccess: () => void = () => undefined,
  ) {}

  register(registration: AgentRegistration): Promise<RegisterResult> {
    return this.run(() => this.inner.register(registration));
  }

  async heartbeat(agentId: string): Promise<Lease> {
    const lease = await this.inner.heartbeat(agentId);
    this.onSuccess();
    return lease;
  }

  async deregister(agentId: string): Promise<void> {
    await this.inner.deregister(agentId);
    this.onSuccess();
  }

  get(agentId: string): Promise<AgentRecord> {
    return this.run(() => this.inner.get(agentId));
  }

  search(query: SearchQuery): Promise<SearchPage> {
    return this.run(() => this.inner.search(query));
  }

  updateMetadata(agentId: string, metadata: Record<string, unknown>): Promise<AgentRecord> {
    return this.run(() => this.inner.updateMetadata(agentId, metadata));
  }

  getStake(agentId: string): Promise<StakeBalance> {
    return this.run(() => this.inner.getStake(agentId));
  }

  async submitFeedback(feedback: Feedback): Promise<{ agentId: string; reputation: number }> {
    const out = await this.inner.submitFeedback(feedback);
    this.onSuccess();
    return out;
  }

  /** Not retried: a retry after a lost answer would tell the agent twice. */
  async sendRequest(agentId: string, request: AgentRequest): Promise<{ requestId: string }> {
    const out = await this.inner.sendRequest(agentId, request);
    this.onSuccess();
    return out;
  }

  subscribe(options?: RegistryEventsOptions): RegistryEventSubscription {
    return this.inner.subscribe(options);
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    const out = await this.retry.execute(() => fn());
    this.onSuccess();
    return out;
  }
}
