/** The counters of one service, as plain numbers: updated on every request, read at scrape. */
export class ServiceStats {
  requests = 0;
  successes = 0;
  failures = 0;
  inFlight = 0;
  /** Sum of request durations in seconds. */
  totalSeconds = 0;
  /** Failures by error code. */
  readonly failuresByCode = new Map<string, number>();
  /** Cache counters of a cacheable service: answers served from the cache, handler runs for it, entries dropped for room. */
  cache: { hits: number; misses: number; evictions: number } | undefined = undefined;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly bucketCounts: Float64Array;

  constructor(
    readonly service: string,
    /** Upper bounds in seconds, ascending. */
    readonly bounds: readonly number[],
  ) {
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }

  /** Records a finished request's duration in seconds. */
  observe(seconds: number): void {
    this.totalSeconds += seconds;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.bucketCounts[i]!++;
  }

  succeed(seconds: number): void {
    this.successes++;
    this.observe(seconds);
  }

  fail(code: string, seconds: number | undefined): void {
    this.failures++;
    this.failuresByCode.set(code, (this.failuresByCode.get(code) ?? 0) + 1);
    if (seconds !== undefined) this.observe(seconds);
  }
}
