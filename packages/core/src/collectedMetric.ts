import type { Metric, Registry } from 'prom-client';

/** One sample of a metric family, in prom-client's shape. */
export interface MetricSample {
  labels: Record<string, string | number>;
  value: number;
  /** For histograms: `<name>_bucket`, `<name>_sum`, `<name>_count`. */
  metricName?: string;
}

/**
 * A Prometheus metric family read from plain counters when scraped. prom-client's own
 * metrics hash their label set on every update (about 100 ns for a counter,
 * 300 ns for a histogram); a service's counters are updated on every request,
 * so they are kept as plain numbers and turned into samples only at scrape.
 */
export class CollectedMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly collect: () => MetricSample[],
  ) {}

  /** What prom-client's registry reads when it renders /metrics. */
  get(): { name: string; help: string; type: string; values: MetricSample[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.collect(), aggregator: this.aggregator };
  }

  /** Counters here only reset with their service; registry.resetMetrics() leaves them. */
  reset(): void {}

  /** Adds this family to a prom-client registry (an agent's `ctx.metrics`). */
  registerIn(registry: Registry): void {
    // The registry reads only name, get() and reset(); it is typed for its own classes.
    registry.registerMetric(this as unknown as Metric);
  }
}
