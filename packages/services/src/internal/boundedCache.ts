/** One stored answer: its JSON, when it stops being fresh, and what it costs. */
export interface CachedAnswer {
  /** The answer's JSON: each hit parses its own copy, so no reader can change what the next one gets. */
  readonly json: string;
  /** Clock time at which the answer is no longer fresh. */
  readonly expiresAt: number;
  /** What the entry counts against the byte bound: the key's length (one byte a character) and the JSON's UTF-8 bytes. */
  readonly bytes: number;
}

/**
 * A bounded map of answers: fresh until their own expiry, at most
 * `maxEntries` entries and `maxBytes` bytes, least recently used dropped
 * first. Map keeps insertion order, so re-inserting on read makes the first
 * key the least recently used one. Time is passed in (the caller's Clock).
 */
export class BoundedCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private usedBytes = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  /** Entries held (fresh or not yet found stale). */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.usedBytes;
  }

  /** The fresh answer under `key` at time `now`; a stale one is dropped. */
  get(key: string, now: number): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) {
      this.usedBytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * Stores an answer and returns how many other entries were dropped to make
   * room. An answer larger than the whole byte bound is not stored (and any
   * older answer under its key is dropped).
   */
  set(key: string, json: string, expiresAt: number): number {
    this.delete(key);
    const bytes = key.length + Buffer.byteLength(json);
    if (bytes > this.maxBytes) return 0;
    let evicted = 0;
    while (this.entries.size >= this.maxEntries || this.usedBytes + bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
      evicted++;
    }
    this.entries.set(key, { json, expiresAt, bytes });
    this.usedBytes += bytes;
    return evicted;
  }

  /** Drops one entry; whether there was one. */
  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.usedBytes -= entry.bytes;
    return true;
  }

  /** Drops every entry. */
  clear(): void {
    this.entries.clear();
    this.usedBytes = 0;
  }
}
