import { systemClock, type Clock } from '@sov/core';

/** Options of NonceCache. */
export interface NonceCacheOptions {
  /** Most entries held at once. @default 100000 */
  maxEntries?: number;
  /** @default the system clock */
  clock?: Clock;
}

/** What NonceCache.add() found. */
export type NonceVerdict = 'fresh' | 'replay' | 'evicted';

/**
 * Remembers values (nonces, envelope ids) until they expire, to refuse a
 * second use. Memory is bounded by `maxEntries`.
 *
 * Bound policy: when full, the oldest entry is evicted and its expiry becomes
 * a floor: from then on, any value whose own expiry is at or below the floor
 * is refused (`evicted`) because it can no longer be told apart from a
 * replay. Eviction therefore never reopens a replay; under a flood the
 * acceptance window shrinks instead of the cache growing or every caller
 * being refused.
 *
 * @example
 * const seen = new NonceCache({ maxEntries: 10_000 });
 * if (seen.add(`${keyId} ${nonce}`, createdMs + 60_000) !== 'fresh') throw replay();
 */
export class NonceCache {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly clock: Clock;
  private floor = -Infinity;
  private nextPurge = -Infinity;

  constructor(options: NonceCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}`);
    }
    this.clock = options.clock ?? systemClock;
  }

  /** How many values are held. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether the value is held (and not expired). */
  has(value: string): boolean {
    const expiresAt = this.entries.get(value);
    return expiresAt !== undefined && expiresAt > this.clock.now();
  }

  /**
   * Records a value until `expiresAt` (ms since the epoch). Returns `fresh` if
   * it was new, `replay` if it is already held, `evicted` if memory pressure
   * means it cannot be checked (see the class doc); only `fresh` records it.
   */
  add(value: string, expiresAt: number): NonceVerdict {
    const now = this.clock.now();
    const held = this.entries.get(value);
    if (held !== undefined && held > now) return 'replay';
    if (expiresAt <= this.floor) return 'evicted';
    this.purge(now);
    if (held !== undefined) this.entries.delete(value);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value[0]);
      if (oldest.value[1] > this.floor) this.floor = oldest.value[1];
      if (expiresAt <= this.floor) return 'evicted';
    }
    this.entries.set(value, expiresAt);
    return 'fresh';
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
    this.floor = -Infinity;
    this.nextPurge = -Infinity;
  }

  // Entries arrive roughly in expiry order, so expired ones gather at the front.
  // Sweeping at most every 100 ms keeps the hot path free of it; the bound holds regardless.
  private purge(now: number): void {
    if (now < this.nextPurge) return;
    this.nextPurge = now + 100;
    for (const [value, expiresAt] of this.entries) {
      if (expiresAt > now) break;
      this.entries.delete(value);
    }
  }
}
