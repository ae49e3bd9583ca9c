import type { Registry } from 'prom-client';
import { CollectedMetric, type MetricSample as Sample } from '@sov/core/internal';
import { ServiceStats } from './internal/serviceStats';

/** A service's counters, as `getServiceCatalog()` shows them. */
export interface ServiceMetricsSnapshot {
  /** Requests routed to the service (refused ones included). */
  requests: number;
  successes: number;
  failures: number;
  /** Failures by error code (`INVALID_INPUT`, `TIMEOUT` ...). */
  failuresByCode: Record<string, number>;
  /** Requests being served right now. */
  inFlight: number;
  /** Time spent on requests that ran, in ms. */
  totalTimeMs: number;
  /** Mean time of a request that ran, in ms; 0 before the first. */
  averageTimeMs: number;
  /** For a cacheable service: answers served from its cache (hits), handler runs for it (misses), answers dropped for room (evictions). */
  cache?: { hits: number; misses: number; evictions: number };
}

/** Options of ServiceMetrics. */
export interface ServiceMetricsOptions {
  /** Prefix of every metric name. @default 'sov_service_' */
  prefix?: string;
  /** Latency histogram upper bounds, in seconds. @default 0.5 ms to 10 s, as the agent's own request histogram */
  buckets?: number[];
}

const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Per-service metrics: requests, successes, failures (by code), requests in
 * flight and a latency histogram, labelled by service. Kept as plain numbers
 * on the request path and rendered for Prometheus when scraped
 * (`register(agent metrics registry)`); the router's catalog shows them too.
 *
 * @example
 * const metrics = new ServiceMetrics();
 * metrics.register(promRegistry);   // the agent's /metrics registry
 * metrics.snapshot('process_data'); // { requests, successes, failures, ... }
 */
export class ServiceMetrics {
  private readonly stats = new Map<string, ServiceStats>();
  private readonly prefix: string;
  private readonly buckets: readonly number[];
  private readonly registered = new Set<Registry>();

  constructor(options: ServiceMetricsOptions = {}) {
    this.prefix = options.prefix ?? 'sov_service_';
    this.buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);
  }

  /**
   * The counters of one service, created on first use.
   * @internal the router updates them on its request path
   */
  track(service: string): ServiceStats {
    let s = this.stats.get(service);
    if (!s) {
      s = new ServiceStats(service, this.buckets);
      this.stats.set(service, s);
    }
    return s;
  }

  /** A copy of one service's counters; undefined for a service never tracked. */
  snapshot(service: string): ServiceMetricsSnapshot | undefined {
    const s = this.stats.get(service);
    if (!s) return undefined;
    const ran = s.bucketCounts.reduce((a, b) => a + b, 0);
    const totalTimeMs = s.totalSeconds * 1000;
    return {
      requests: s.requests,
      successes: s.successes,
      failures: s.failures,
      failuresByCode: Object.fromEntries(s.failuresByCode),
      inFlight: s.inFlight,
      totalTimeMs,
      averageTimeMs: ran === 0 ? 0 : totalTimeMs / ran,
      ...(s.cache ? { cache: { ...s.cache } } : {}),
    };
  }

  /** Adds the metric families to a prom-client registry (an agent's is served at `/metrics`). Idempotent. */
  register(registry: Registry): void {
    if (this.registered.has(registry)) return;
    this.registered.add(registry);
    const p = this.prefix;
    const per = (read: (s: ServiceStats) => number) => () => [...this.stats.values()].map((s) => ({ labels: { service: s.service }, value: read(s) }));
    new CollectedMetric(`${p}requests_total`, 'Requests routed to each service', 'counter', per((s) => s.requests)).registerIn(registry);
    new CollectedMetric(`${p}successes_total`, 'Requests each service answered successfully', 'counter', per((s) => s.successes)).registerIn(registry);
    new CollectedMetric(`${p}failures_total`, 'Requests each service refused or failed, by error code', 'counter', () => {
      const out: Sample[] = [];
      for (const s of this.stats.values()) {
        for (const [code, n] of s.failuresByCode) out.push({ labels: { service: s.service, code }, value: n });
      }
      return out;
    }).registerIn(registry);
    const perCached = (read: (c: NonNullable<ServiceStats['cache']>) => number) => () => {
      const out: Sample[] = [];
      for (const s of this.stats.values()) if (s.cache) out.push({ labels: { service: s.service }, value: read(s.cache) });
      return out;
    };
    new CollectedMetric(`${p}cache_hits_total`, 'Calls of each cacheable service answered from its cache', 'counter', perCached((c) => c.hits)).registerIn(registry);
    new CollectedMetric(`${p}cache_misses_total`, 'Calls of each cacheable service that ran its handler', 'counter', perCached((c) => c.misses)).registerIn(registry);
    new CollectedMetric(`${p}cache_evictions_total`, 'Answers of each cacheable service dropped to make room', 'counter', perCached((c) => c.evictions)).registerIn(registry);
    new CollectedMetric(`${p}in_flight`, 'Requests each service is serving now', 'gauge', per((s) => s.inFlight)).registerIn(registry);
    const hist = `${p}duration_seconds`;
    new CollectedMetric(hist, 'Time each service took to answer, including validation', 'histogram', () => {
      const out: Sample[] = [];
      for (const s of this.stats.values()) {
        let acc = 0;
        s.bounds.forEach((le, i) => {
          acc += s.bucketCounts[i]!;
          out.push({ metricName: `${hist}_bucket`, labels: { service: s.service, le }, value: acc });
        });
        acc += s.bucketCounts[s.bounds.length]!;
        out.push({ metricName: `${hist}_bucket`, labels: { service: s.service, le: '+Inf' }, value: acc });
        out.push({ metricName: `${hist}_sum`, labels: { service: s.service }, value: s.totalSeconds });
        out.push({ metricName: `${hist}_count`, labels: { service: s.service }, value: acc });
      }
      return out;
    }).registerIn(registry);
  }
}
