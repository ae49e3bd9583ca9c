import { SovError, type Clock, type Logger } from '@sov/core';
import type { KeyedLock } from '../internal/keyedLock';
import type { RegistryStore } from '../registryStore';
import type { StoredAgent } from '../storedAgent';
import type { Authorization } from './authorization';
import type { EventHub } from './eventHub';
import type { RequestInput } from './requestInput';

/** What the registry's route modules share: its store, time, log, authorization, input checks, locks and events. */
export interface RouteContext {
  store: RegistryStore;
  clock: Clock;
  logger: Logger;
  auth: Authorization;
  input: RequestInput;
  /** One change at a time to each agent's record (read, change, write back); across processes too with a shared store's lockAgent. */
  agentLocks: KeyedLock;
  events: EventHub;
}

/** The agent if its lease has not ended at `now`. */
export function liveAt(agent: StoredAgent | undefined, now: number): StoredAgent | undefined {
  return agent && agent.expiresAtMs > now ? agent : undefined;
}

/** The refusal for an id with no (live) registration. */
export function notRegistered(agentId: string): SovError {
  return new SovError('NOT_FOUND', `No agent registered with id ${agentId}`);
}
