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
  // The values in the order they were added, with the expiry each was added with: a ring that grows by doubling.
  // Eviction and expiry take from its head in O(1). (Taking the Map's first entry instead costs a scan over the
  // slots of entries deleted since the Map last compacted: tens of µs per request once the cache is full.)
  private ringValues: Array<string | undefined> = new Array<string | undefined>(64);
  private ringExpiries = new Float64Array(64);
  private head = 0;
  private length = 0;

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
    // An expired value added again: its old ring slot no longer matches and is passed over when reached.
    if (held !== undefined) this.entries.delete(value);
    while (this.entries.size >= this.maxEntries && this.length > 0) {
      const evictedAt = this.shift();
      if (evictedAt === undefined) continue;
      if (evictedAt > this.floor) this.floor = evictedAt;
      if (expiresAt <= this.floor) return 'evicted';
    }
    this.entries.set(value, expiresAt);
    this.push(value, expiresAt);
    return 'fresh';
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
    this.ringValues = new Array<string | undefined>(64);
    this.ringExpiries = new Float64Array(64);
    this.head = 0;
    this.length = 0;
    this.floor = -Infinity;
    this.nextPurge = -Infinity;
  }

  // Entries arrive roughly in expiry order, so expired ones gather at the head.
  // Sweeping at most every 100 ms keeps the hot path free of it; the bound holds regardless.
  private purge(now: number): void {
    if (now < this.nextPurge) return;
    this.nextPurge = now + 100;
    while (this.length > 0 && this.ringExpiries[this.head]! <= now) this.shift();
  }

  private push(value: string, expiresAt: number): void {
    const capacity = this.ringValues.length;
    if (this.length === capacity) {
      // Stale slots (values expired and added again) can make the ring longer than the Map: it doubles, in order.
      const values = new Array<string | undefined>(capacity * 2);
      const expiries = new Float64Array(capacity * 2);
      for (let i = 0; i < capacity; i++) {
        const from = (this.head + i) & (capacity - 1);
        values[i] = this.ringValues[from];
        expiries[i] = this.ringExpiries[from]!;
      }
      this.ringValues = values;
      this.ringExpiries = expiries;
      this.head = 0;
    }
    const at = (this.head + this.length) & (this.ringValues.length - 1);
    this.ringValues[at] = value;
    this.ringExpiries[at] = expiresAt;
    this.length++;
  }

  /**
   * Takes the oldest slot off the ring (there is one). Returns the expiry of the value it forgot, or undefined
   * when the slot was stale (its value was added again since, or is gone).
   */
  private shift(): number | undefined {
    const value = this.ringValues[this.head]!;
    const expiresAt = this.ringExpiries[this.head]!;
    this.ringValues[this.head] = undefined;
    this.head = (this.head + 1) & (this.ringValues.length - 1);
    this.length--;
    if (this.entries.get(value) !== expiresAt) return undefined;
    this.entries.delete(value);
    return expiresAt;
  }
}
