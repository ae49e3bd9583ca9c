import type { Registry } from 'prom-client';
import { CollectedMetric, type MetricSample } from './collectedMetric';

/** Upper bounds of the request duration histogram, in seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Options of RequestMetrics. */
export interface RequestMetricsOptions {
  /** Name of the request counter, e.g. `sov_agent_requests_total`. */
  countName: string;
  countHelp: string;
  /** Name of the duration histogram, e.g. `sov_agent_request_duration_seconds`. */
  durationName: string;
  durationHelp: string;
  /** Label names of the counter, in the order `record` gets their values. */
  labels: readonly string[];
  /** How many of the leading labels the histogram keeps (the rest, such as the outcome, only count). */
  durationLabels: number;
}

interface Count {
  values: readonly string[];
  n: number;
}

interface Durations {
  values: readonly string[];
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * Requests served and their durations, kept as plain numbers on the request
 * path and turned into Prometheus samples only when `/metrics` is read
 * (prom-client's own metrics hash their labels on every update).
 *
 * @example
 * const metrics = new RequestMetrics(registry, { countName: 'x_requests_total', countHelp: 'Requests', durationName: 'x_request_duration_seconds', durationHelp: 'Duration', labels: ['route', 'code'], durationLabels: 1 });
 * metrics.record(['/rpc', 'ok'], 0.0012);
 */
export class RequestMetrics {
  private readonly counts = new Map<string, Count>();
  private readonly durations = new Map<string, Durations>();
  private readonly options: RequestMetricsOptions;

  constructor(registry: Registry, options: RequestMetricsOptions) {
    this.options = options;
    const labelsOf = (names: readonly string[], values: readonly string[]) => {
      const labels: Record<string, string> = {};
      names.forEach((name, i) => (labels[name] = values[i] ?? ''));
      return labels;
    };
    new CollectedMetric(options.countName, options.countHelp, 'counter', () =>
      [...this.counts.values()].map((c) => ({ labels: labelsOf(options.labels, c.values), value: c.n })),
    ).registerIn(registry);
    const durationNames = options.labels.slice(0, options.durationLabels);
    new CollectedMetric(options.durationName, options.durationHelp, 'histogram', () => {
      const out: MetricSample[] = [];
      for (const d of this.durations.values()) {
        const labels = labelsOf(durationNames, d.values);
        let cumulative = 0;
        DURATION_BUCKETS.forEach((le, i) => {
          cumulative += d.buckets[i]!;
          out.push({ metricName: `${options.durationName}_bucket`, labels: { ...labels, le }, value: cumulative });
        });
        out.push({ metricName: `${options.durationName}_bucket`, labels: { ...labels, le: '+Inf' }, value: d.count });
        out.push({ metricName: `${options.durationName}_sum`, labels, value: d.sum });
        out.push({ metricName: `${options.durationName}_count`, labels, value: d.count });
      }
      return out;
    }).registerIn(registry);
  }

  /** Counts one request with the given label values (in `labels` order) and its duration in seconds. */
  record(values: readonly string[], seconds: number): void {
    const key = values.join('\u0000');
    const count = this.counts.get(key);
    if (count) count.n++;
    else this.counts.set(key, { values: [...values], n: 1 });
    const dKey = this.options.durationLabels === values.length ? key : values.slice(0, this.options.durationLabels).join('\u0000');
    let d = this.durations.get(dKey);
    if (!d) {
      d = { values: values.slice(0, this.options.durationLabels), buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(dKey, d);
    }
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    if (i < DURATION_BUCKETS.length) d.buckets[i]!++;
    d.sum += seconds;
    d.count++;
  }
}
