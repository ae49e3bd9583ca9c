import type { RegistryEvent, SearchQuery } from '@sov/core';
import type { StoredAgent } from './storedAgent';

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
  getStake(agentId: string): Promise<number>;
  /** Adds delta to a stake; refuses (INSUFFICIENT_STAKE) to go below zero. Returns the new stake. */
  adjustStake(agentId: string, delta: number): Promise<number>;
  /** Marks a receipt used; resolves false when it was used before. */
  useReceipt(receiptId: string): Promise<boolean>;
  /** Appends an event and gives it the next id. */
  appendEvent(event: Omit<RegistryEvent, 'id'>): Promise<RegistryEvent>;
  /** Events after `afterId` (all retained when undefined), oldest first. */
  eventsAfter(afterId: string | undefined): Promise<EventReplay>;
  close(): Promise<void>;
}
