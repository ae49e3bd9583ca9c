import type { Registry } from 'prom-client';
import type { Agent, PeerCaller, TargetResolver } from './agent';
import type { Clock } from './clock';
import type { AgentConfig } from './config';
import type { EndpointRegistrar, RequestContext, RequestHandler } from './endpoint';
import type { Logger } from './logger';
import type { AgentIdentity } from './ports';
import type { RegistryClient } from './registryClient';
import type { AgentRegistration, AgentRequest, RpcReply } from './wire';

/** What a capability may add to the agent's registry record. */
export type RegistrationContribution = Partial<Pick<AgentRegistration, 'capabilities' | 'services' | 'metadata'>>;

/** The agent's context, handed to every capability hook. */
export interface AgentContext {
  readonly agent: Agent;
  /** The agent id (from the identity when there is one). */
  readonly agentId: string;
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly identity: AgentIdentity | undefined;
  /** The registry client; undefined for a standalone agent. */
  readonly registry: RegistryClient | undefined;
  /** Replaces the registry client (for example with one that retries); call during initialize. */
  setRegistry(client: RegistryClient): void;
  /** Routes, health and readiness checks, guards and the verifier of the agent's endpoint. */
  readonly endpoint: EndpointRegistrar;
  /** Sets the handler of the agent's request route. */
  setRequestHandler(handler: RequestHandler): void;
  /** Adds to the registry record; called at every (re-)registration. */
  contributeRegistration(contributor: () => RegistrationContribution): void;
  /**
   * Sends the registry the agent's record again now, because what a
   * contributor returns has changed (a service added after start). Changes
   * made in one tick share one registration. Resolves at once while the
   * agent is not registered: its coming registration carries the change.
   */
  refreshRegistration(): Promise<void>;
  /** The agent's Prometheus registry (served at `/metrics`): register your metrics here. */
  readonly metrics: Registry;
  /**
   * Wraps how the agent calls peers (agent.call): retries, breakers and
   * timeouts plug in here. Wrappers apply in the order added, the last outermost.
   */
  wrapPeerCalls(wrapper: (next: PeerCaller) => PeerCaller): void;
  /**
   * Sends agent.call's calls to the endpoints a transport `handles` (an A2A
   * agent's card URL) through it instead of the agent's `POST /rpc` client.
   * Transports sit inside every peer-call wrapper, so timeouts, breakers and
   * retries apply to them as to any call; the first that handles an endpoint wins.
   */
  addPeerTransport(transport: PeerTransport): void;
  /**
   * Resolves agent.call's query targets before the agent's own registry
   * search (federation searches several registries). Resolvers run in the
   * order added; the first that answers (not undefined) decides.
   */
  addTargetResolver(resolver: TargetResolver): void;
  /**
   * Serves a request with the agent's request handler, as `POST /rpc` does
   * after its checks: for a route that speaks another protocol (A2A's
   * SendMessage) and calls the same services. The route has verified the
   * caller; pass it in `context`. Rejects with SERVICE_NOT_FOUND when the
   * agent has no request handler.
   */
  handleRequest(request: AgentRequest, context: RequestContext): Promise<RpcReply>;
  /**
   * Wraps the handler of the agent's request route, whoever sets it (a
   * service router, `agent.handle`): observers such as request events plug
   * in here without depending on the package that serves requests. Wrappers
   * apply in the order added, the last outermost; a wrapper must call `next`
   * and hand back its reply or rethrow its error.
   */
  wrapRequestHandler(wrapper: (next: RequestHandler) => RequestHandler): void;
}

/** Carries agent.call's calls to peers that speak another protocol (see AgentContext.addPeerTransport). */
export interface PeerTransport {
  /** Whether this transport carries calls to `endpoint` (the target URL as agent.call got it). */
  handles(endpoint: string): boolean;
  /** Sends one call; resolves with the reply as `POST /rpc` would give it, or rejects with a SovError. */
  call: PeerCaller;
}

/**
 * A piece of behaviour that plugs into an agent's lifecycle. `agent.use(c)`
 * returns `c.api`. Hooks run in the order capabilities were added
 * (shutdown in reverse); a hook that throws fails start and rolls back.
 *
 * @example
 * const counter: Capability<{ count(): number }> = (() => {
 *   let n = 0;
 *   return { name: 'counter', api: { count: () => n }, start: () => { n++; } };
 * })();
 */
export interface Capability<TApi = void> {
  readonly name: string;
  /** What agent.use() hands back to the user. */
  readonly api: TApi;
  /** Config is loaded, the endpoint is not listening yet: add routes, checks, contributors. */
  initialize?(context: AgentContext): void | Promise<void>;
  /** Start background work; the endpoint is about to listen. */
  start?(context: AgentContext): void | Promise<void>;
  /** The agent is listening and registered. */
  ready?(context: AgentContext): void | Promise<void>;
  /**
   * Release what initialize and start took; in-flight requests are done or
   * timed out. `budgetMs` is what is left of the agent's shutdown budget
   * (Infinity when a failed start rolls back): finish within it.
   */
  shutdown?(context: AgentContext, budgetMs: number): void | Promise<void>;
}
