import type { RegistryEvent, SearchQuery } from '@sov/core';
import type { AgentStanding, StoredAgent } from './storedAgent';

/** A search as a store receives it: validated, with a limit. */
export type StoreSearch = SearchQuery & { limit: number };

/** One page of stored agents. */
export interface StoredPage {
  agents: StoredAgent[];
  total: number;
  nextCursor: string | null;
}

/** What asking for events after an id gives back. */
export interface EventReplay {
  events: RegistryEvent[];
  /** True when events after the given id have left the replay window (some were lost to this client). */
  truncated: boolean;
}

/**
 * Where a registry keeps its state. The server talks only to this interface;
 * every store passes the conformance suite in @sov/testing.
 * Search order: reputation high to low, then id.
 */
export interface RegistryStore {
  /** Opens the store (loads what it persisted). */
  open(): Promise<void>;
  put(agent: StoredAgent): Promise<void>;
  get(id: string): Promise<StoredAgent | undefined>;
  /** Removes an agent; resolves to whether it existed. */
  delete(id: string): Promise<boolean>;
  /** Agents live at `now` matching every listed capability and the filters. */
  search(query: StoreSearch, now: number): Promise<StoredPage>;
  /** Removes and returns every agent whose lease ended at or before `now`. */
  expire(now: number): Promise<StoredAgent[]>;
  count(): Promise<number>;
  /** The stake of an agent id (0 when it has none), a whole number of minor units. */
  getStake(agentId: string): Promise<number>;
  /**
   * Adds delta (a safe integer) to a stake; refuses to go below zero
   * (INSUFFICIENT_STAKE) or above MAX_AMOUNT (INVALID_AMOUNT), changing
   * nothing. Returns the new stake.
   */
  adjustStake(agentId: string, delta: number): Promise<number>;
  /** Marks a receipt used; resolves false when it was used before. */
  useReceipt(receiptId: string): Promise<boolean>;
  /** What an agent id has earned (reputation and its raters); undefined before its first rating. Outlives registrations. */
  getStanding(agentId: string): Promise<AgentStanding | undefined>;
  /**
   * Counts one feedback at once: marks the receipt used, writes the id's new
   * standing and, when the agent is registered, its record with the new
   * reputation. Resolves false, writing nothing, when the receipt was used before.
   */
  recordFeedback(feedback: { receiptId: string; standing: AgentStanding; agent?: StoredAgent }): Promise<boolean>;
  /** Appends an event and gives it the next id. */
  appendEvent(event: Omit<RegistryEvent, 'id'>): Promise<RegistryEvent>;
  /** The id of the newest event appended ('0' before the first). */
  latestEventId(): Promise<string>;
  /** Events after `afterId` (all retained when undefined), oldest first. */
  eventsAfter(afterId: string | undefined): Promise<EventReplay>;
  /**
   * For a store that several registry processes share (replicas behind one
   * load balancer): every event appended by any of them, each once, in id
   * order, from about the moment of the call. A registry given such a store
   * fans out to its event-stream subscribers from here, not from its own
   * appends, and drops the search answers it cached when another replica's
   * change arrives. Returns a function that unsubscribes. Stores used by one
   * process leave it out.
   */
  subscribeEvents?(listener: (event: RegistryEvent) => void): () => void;
  /**
   * For a shared store: runs a read-modify-write section on one agent id
   * (its record and standing) so that no other process sharing the store runs
   * one on the same id meanwhile, and so that expire() does not remove the
   * record under it. The registry still serialises sections within its own
   * process; stores used by one process leave it out.
   */
  lockAgent?<T>(agentId: string, section: () => Promise<T>): Promise<T>;
  /** Whether the store can write right now (the registry's /ready reflects it); stores that cannot tell leave it out. */
  health?(): { ok: boolean; detail?: unknown };
  close(): Promise<void>;
}
