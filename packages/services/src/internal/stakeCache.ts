import { SovError, isSovError, type Clock } from '@sov/core';

interface Entry {
  /** The stake, or the lookup in progress (concurrent requests of one caller share it). */
  value: number | Promise<number>;
  until: number;
}

/**
 * Callers' stakes, read from the registry and kept for a short time, so a
 * burst of calls costs one registry lookup. Bounded: past `maxEntries`, the
 * least recently fetched caller is dropped. Failed lookups are not kept.
 */
export class StakeCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly lookup: (agentId: string) => Promise<number>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The caller's stake: a number when cached, else a promise of the registry's answer. */
  get(agentId: string): number | Promise<number> {
    const now = this.clock.now();
    const hit = this.entries.get(agentId);
    if (hit && hit.until > now) return hit.value;
    const entry: Entry = { value: 0, until: now + this.ttlMs };
    entry.value = this.lookup(agentId).then(
      (stake) => {
        // Only the entry this lookup made is updated: an invalidation in the meantime wins.
        if (this.entries.get(agentId) === entry) entry.value = stake;
        return stake;
      },
      (cause: unknown) => {
        if (this.entries.get(agentId) === entry) this.entries.delete(agentId);
        const reason = isSovError(cause) || cause instanceof Error ? cause.message : String(cause);
        throw new SovError('UNAVAILABLE', `Cannot check the stake of ${agentId}: ${reason}`, { cause });
      },
    );
    if (this.ttlMs > 0) {
      this.entries.delete(agentId);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(agentId, entry);
    }
    return entry.value;
  }

  /** Forgets one caller's stake, or every caller's. */
  invalidate(agentId?: string): void {
    if (agentId === undefined) this.entries.clear();
    else this.entries.delete(agentId);
  }
}
