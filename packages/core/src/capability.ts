import type { Registry } from 'prom-client';
import type { Agent, PeerCaller } from './agent';
import type { Clock } from './clock';
import type { AgentConfig } from './config';
import type { EndpointRegistrar, RequestHandler } from './endpoint';
import type { Logger } from './logger';
import type { AgentIdentity } from './ports';
import type { RegistryClient } from './registryClient';
import type { AgentRegistration } from './wire';

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
  /** Release what initialize and start took; in-flight requests are done or timed out. */
  shutdown?(context: AgentContext): void | Promise<void>;
}
