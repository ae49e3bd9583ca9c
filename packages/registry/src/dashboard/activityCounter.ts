/** What the dashboard counts, bucket by bucket. */
export type ActivityKind = 'registrations' | 'departures' | 'searches';

/** Counts per kind over the last `buckets × bucketMs`, oldest first. */
export interface ActivitySnapshot {
  /** Length of one bucket in ms. */
  bucketMs: number;
  /** Start time (ms since the epoch) of each bucket, oldest first; the last one is the current bucket. */
  starts: number[];
  registrations: number[];
  departures: number[];
  searches: number[];
}

const KINDS: readonly ActivityKind[] = ['registrations', 'departures', 'searches'];

/**
 * Event counts in a ring of fixed time buckets: constant memory, O(1) per
 * record. Time comes from the caller (the registry's clock), so tests move it.
 */
export class ActivityCounter {
  private readonly counts: Record<ActivityKind, number[]>;
  /** Bucket number (time / bucketMs) each ring slot currently holds. */
  private readonly slotBucket: number[];

  constructor(
    private readonly bucketMs: number,
    private readonly buckets: number,
  ) {
    this.counts = { registrations: new Array<number>(buckets).fill(0), departures: new Array<number>(buckets).fill(0), searches: new Array<number>(buckets).fill(0) };
    this.slotBucket = new Array<number>(buckets).fill(-1);
  }

  /** Counts one `kind` at time `now`. */
  record(kind: ActivityKind, now: number): void {
    const bucket = Math.floor(now / this.bucketMs);
    const slot = this.slotFor(bucket);
    this.counts[kind][slot] = (this.counts[kind][slot] ?? 0) + 1;
  }

  /** The counts of the last `buckets` buckets up to `now`, oldest first (empty buckets are 0). */
  snapshot(now: number): ActivitySnapshot {
    const current = Math.floor(now / this.bucketMs);
    const out: ActivitySnapshot = { bucketMs: this.bucketMs, starts: [], registrations: [], departures: [], searches: [] };
    for (let b = current - this.buckets + 1; b <= current; b++) {
      const slot = ((b % this.buckets) + this.buckets) % this.buckets;
      const held = this.slotBucket[slot] === b;
      out.starts.push(b * this.bucketMs);
      for (const k of KINDS) out[k].push(held ? (this.counts[k][slot] ?? 0) : 0);
    }
    return out;
  }

  private slotFor(bucket: number): number {
    const slot = ((bucket % this.buckets) + this.buckets) % this.buckets;
    if (this.slotBucket[slot] !== bucket) {
      this.slotBucket[slot] = bucket;
      for (const k of KINDS) this.counts[k][slot] = 0;
    }
    return slot;
  }
}
