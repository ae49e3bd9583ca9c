import { a2a, type A2aApi } from '@sov/a2a';
import { Agent, SovError, type AgentOptions } from '@sov/core';
import { secureMessaging, type Identity, type SecureMessagingApi } from '@sov/crypto';
import { events, type EventsApi } from '@sov/events';
import { resilience, type ResilienceApi } from '@sov/resilience';
import { serviceRouter, type ServiceRouter } from '@sov/services';
import { fileState, type FileStateStore, type StateApi } from '@sov/state';

/** The capability the reference agent publishes. */
export const TEXT_CAPABILITY = 'text.uppercase';

/** Options of the reference agent. */
export interface ReferenceAgentOptions extends Omit<AgentOptions, 'identity'> {
  identity: Identity;
  /** Where the agent keeps its state. @default './agent_state' */
  stateDir?: string;
  /** Stake needed for the `analyse` service. @default 100 */
  analyseMinStake?: number;
}

/** A reference agent and the capabilities it is assembled from. */
export interface ReferenceAgent {
  agent: Agent;
  services: ServiceRouter;
  state: StateApi<FileStateStore>;
  secure: SecureMessagingApi;
  resilience: ResilienceApi;
  /** Its A2A side: the agent card and the JSON-RPC route (`/a2a`). */
  a2a: A2aApi;
  /** Its event queue: registry events (stake changes) and its request events. */
  events: EventsApi;
}

/**
 * The reference agent: every package assembled into one agent.
 * - services: `uppercase` (free) and `analyse` (needs stake, price 2);
 * - state: counts the calls it served, kept across restarts (journal);
 * - crypto: signs and verifies every call, receives sealed messages;
 * - resilience: registry retries, per-peer breakers, rate limit, health;
 * - a2a: an A2A agent card and JSON-RPC route over the same services;
 * - events: follows the registry's stake_changed, so a caller's new stake
 *   counts at once instead of after the stake cache's TTL.
 */
export function createReferenceAgent(options: ReferenceAgentOptions): ReferenceAgent {
  const { stateDir, analyseMinStake, ...agentOptions } = options;
  const agent = new Agent({ capabilities: [TEXT_CAPABILITY], ...agentOptions });
  const res = agent.use(resilience({ health: { intervalMs: 30_000 } }));
  const state = agent.use(fileState({ dir: stateDir ?? './agent_state' }));
  const secure = agent.use(secureMessaging());
  const services = agent.use(serviceRouter());
  const a2aApi = agent.use(a2a({ services, description: 'The Sovereign SDK reference agent: upper-cases and analyses text' }));
  const bus = agent.use(events());
  bus.on('stake_changed', async (e) => services.invalidateStake(e.data.peer_id), { name: 'forgetCachedStake' });
  // Opened at start with the registry the config names (options, SOV_REGISTRY_URL or a file); an agent without one has none to follow.
  bus.subscribeRegistry({ types: ['stake_changed'] }).catch(() => undefined);

  const served = () => state.updateState<number>('served', (n) => (n ?? 0) + 1);

  services.register<{ text: string }, { text: string }>({
    name: 'uppercase',
    description: 'Turns text into capitals.',
    inputSchema: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', maxLength: 10_000 } } },
    outputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    price: 0,
    handler: async ({ text }) => {
      await served();
      return { text: text.toUpperCase() };
    },
  });

  services.register<{ text: string }, { words: number; characters: number; longest: string }>({
    name: 'analyse',
    description: 'Counts words and finds the longest one. Needs stake.',
    inputSchema: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', maxLength: 100_000 } } },
    outputSchema: {
      type: 'object',
      required: ['words', 'characters', 'longest'],
      properties: { words: { type: 'integer' }, characters: { type: 'integer' }, longest: { type: 'string' } },
    },
    requiresStake: true,
    minStake: analyseMinStake ?? 100,
    price: 2,
    handler: async ({ text }) => {
      await served();
      const words = text.split(/\s+/).filter(Boolean);
      if (words.length === 0) throw new SovError('INVALID_INPUT', 'params.text has no words');
      const longest = words.reduce((a, b) => (b.length > a.length ? b : a));
      return { words: words.length, characters: text.length, longest };
    },
  });

  return { agent, services, state, secure, resilience: res, a2a: a2aApi, events: bus };
}
