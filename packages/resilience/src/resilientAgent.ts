import { Agent, type AgentOptions, type AgentRequest, type RpcReply, type WireSuccess } from '@sov/core';
import { resilience, type CallPeerOptions, type ResilienceApi, type ResilienceOptions } from './resilience';

/** Options of a ResilientAgent: an Agent's, plus the resilience capability's. */
export interface ResilientAgentOptions extends AgentOptions {
  /** @default the capability's defaults */
  resilience?: ResilienceOptions;
}

/**
 * The guide's ResilientAgent, ready-made: an Agent with the resilience
 * capability in use. Composition underneath; use `agent.use(resilience())`
 * on a plain Agent to combine it with other capabilities the same way.
 *
 * @example
 * const agent = new ResilientAgent({ name: 'analyst', registryUrl, resilience: { handleSignals: true } });
 * agent.handle(async (req) => ({ result: await analyse(req.params) }));
 * await agent.start();
 * const reply = await agent.callPeer(peerUrl, { service: 'summarise', params: { text } });
 */
export class ResilientAgent extends Agent {
  /** The resilience capability's API: policies, error handler, health monitor. */
  readonly resilience: ResilienceApi;

  constructor(options: ResilientAgentOptions) {
    super(options);
    this.resilience = this.use(resilience(options.resilience));
  }

  /** Calls a peer through its circuit breaker, retry, timeout and bulkhead. */
  callPeer(endpoint: string, request: AgentRequest, options?: CallPeerOptions): Promise<WireSuccess<RpcReply>> {
    return this.resilience.callPeer(endpoint, request, options);
  }
}
