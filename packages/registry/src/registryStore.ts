import type { AgentRecord, SearchPage, SearchQuery } from '@sov/core';

/**
 * Where a registry keeps its agents. Every store passes the same conformance
 * suite; the registry server only talks to this interface.
 */
export interface RegistryStore {
  /** Inserts or replaces a record. */
  put(record: AgentRecord): Promise<void>;
  /** A live or not-yet-swept record, or undefined. */
  get(id: string): Promise<AgentRecord | undefined>;
  /** Removes a record; resolves to whether it existed. */
  delete(id: string): Promise<boolean>;
  /** Records matching every listed capability and the filters, live at `now`, in a stable order. */
  search(query: Required<Pick<SearchQuery, 'limit'>> & SearchQuery, now: number): Promise<SearchPage>;
  /** Removes and returns every record whose lease ended before `now`. */
  expire(now: number): Promise<AgentRecord[]>;
  /** How many records the store holds. */
  count(): Promise<number>;
  /** Releases resources. */
  close(): Promise<void>;
}
