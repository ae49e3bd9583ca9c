import type { CallQuery, CallTarget, TargetResolver } from '../agent';
import type { Clock } from '../clock';
import { SovError } from '../errors/sovError';
import type { RegistryClient } from '../registryClient';
import type { AgentRecord } from '../wire';

/** How long an agent id's endpoint, once looked up, is used without asking the registry again. */
const ENDPOINT_TTL_MS = 30_000;
/** Agent ids whose endpoint is kept. */
const MAX_ENDPOINTS = 1000;

/**
 * Where agent.call sends a call: an endpoint URL as given, an agent id's
 * endpoint (from the registry, kept 30 s), or the best matches of a query
 * (capability, reputation, price), asked of the target resolvers that
 * capabilities add (federation's, for instance) before the registry.
 */
export class PeerDirectory {
  private readonly endpoints = new Map<string, { endpoint: string; until: number }>();
  /** Resolvers of queries, asked in the order added; the first that answers decides. */
  readonly resolvers: TargetResolver[] = [];

  constructor(
    private readonly clock: Clock,
    /** This agent's id: it is never its own match. */
    private readonly selfId: () => string,
    private readonly registry: () => RegistryClient | undefined,
  ) {}

  /** Up to `failover` targets for a call of `service`, best first; NOT_FOUND when there is none. */
  async resolve(target: string | CallQuery, service: string, failover: number): Promise<CallTarget[]> {
    if (typeof target === 'string') return [await this.byId(target)];
    const limit = Math.max(1, failover);
    for (const resolve of this.resolvers) {
      const found = await resolve(target, service, limit);
      if (found === undefined) continue;
      const others = found.filter((t) => t.id !== this.selfId());
      if (others.length === 0) throw new SovError('NOT_FOUND', `No agent matches ${JSON.stringify({ ...target, service })}`);
      return others.slice(0, limit);
    }
    if (target.federated) {
      throw new SovError('INVALID_INPUT', 'A federated query needs a capability that resolves it: agent.use(federation(...))');
    }
    return (await this.search(target, service)).slice(0, limit);
  }

  private async byId(target: string): Promise<CallTarget> {
    if (/^https?:\/\//.test(target)) return { id: target, endpoint: target.replace(/\/+$/, '') };
    const cached = this.endpoints.get(target);
    if (cached && cached.until > this.clock.now()) return { id: target, endpoint: cached.endpoint };
    const registry = this.registry();
    if (!registry) throw new SovError('NOT_FOUND', `Cannot find agent ${target}: this agent has no registry`);
    const record = await registry.get(target);
    if (this.endpoints.size >= MAX_ENDPOINTS) this.endpoints.delete(this.endpoints.keys().next().value!);
    this.endpoints.set(target, { endpoint: record.endpoint, until: this.clock.now() + ENDPOINT_TTL_MS });
    return { id: record.id, endpoint: record.endpoint };
  }

  private async search(target: CallQuery, service: string): Promise<CallTarget[]> {
    const registry = this.registry();
    if (!registry) throw new SovError('NOT_FOUND', 'Cannot search for a peer: this agent has no registry');
    const capabilities = [...(target.capabilities ?? []), ...(target.capability ? [target.capability] : [])];
    const page = await registry.search({
      ...(capabilities.length ? { capabilities } : {}),
      ...(target.minReputation !== undefined ? { minReputation: target.minReputation } : {}),
      ...(target.maxPrice !== undefined ? { maxPrice: target.maxPrice } : {}),
      limit: 20,
    });
    const priceOf = (a: AgentRecord) => a.services.find((s) => s.name === service)?.price;
    const matches = page.agents.filter((a) => {
      if (a.id === this.selfId()) return false;
      const price = priceOf(a);
      return target.maxPrice === undefined || price === undefined || price <= target.maxPrice;
    });
    if (matches.length === 0) throw new SovError('NOT_FOUND', `No agent matches ${JSON.stringify({ ...target, service })}`);
    return matches.map((a) => ({ id: a.id, endpoint: a.endpoint }));
  }
}
