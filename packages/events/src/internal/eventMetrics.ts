import { CollectedMetric, type MetricSample } from '@sov/core/internal';
import type { Registry } from 'prom-client';

/** Upper bounds of the handler duration histogram, in seconds. */
const BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];

/** Runs of one handler (by event type and handler name), kept as plain numbers until scraped. */
export class HandlerStats {
  ok = 0;
  failed = 0;
  timedOut = 0;
  readonly buckets = BUCKETS.map(() => 0);
  sum = 0;
  count = 0;

  constructor(
    readonly type: string,
    readonly handler: string,
  ) {}

  observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    if (i < BUCKETS.length) this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** What the bus counts; read by `/metrics` at scrape time only. */
export interface EventCounters {
  depth(): number;
  inFlight(): number;
  accepted: number;
  handled: number;
  rejected: number;
  readonly dropped: Map<string, number>;
  readonly handlers: Map<string, HandlerStats>;
}

/**
 * Registers the bus's metric families in a prom-client registry: queue depth
 * and events in flight (gauges), events accepted, handled, dropped (by
 * reason) and refused, handler runs by outcome and handler durations.
 */
export function registerEventMetrics(registry: Registry, c: EventCounters, prefix = 'sov_events'): void {
  const one = (value: number): MetricSample[] => [{ labels: {}, value }];
  new CollectedMetric(`${prefix}_queue_depth`, 'Events waiting in the queue', 'gauge', () => one(c.depth())).registerIn(registry);
  new CollectedMetric(`${prefix}_in_flight`, 'Events being handled', 'gauge', () => one(c.inFlight())).registerIn(registry);
  new CollectedMetric(`${prefix}_accepted_total`, 'Events accepted into the queue', 'counter', () => one(c.accepted)).registerIn(registry);
  new CollectedMetric(`${prefix}_handled_total`, 'Events whose handlers all settled', 'counter', () => one(c.handled)).registerIn(registry);
  new CollectedMetric(`${prefix}_rejected_total`, 'Emits refused with QUEUE_FULL', 'counter', () => one(c.rejected)).registerIn(registry);
  new CollectedMetric(`${prefix}_dropped_total`, 'Events dropped, by reason', 'counter', () =>
    [...c.dropped].map(([reason, value]) => ({ labels: { reason }, value })),
  ).registerIn(registry);
  new CollectedMetric(`${prefix}_handler_runs_total`, 'Handler runs, by outcome', 'counter', () => {
    const out: MetricSample[] = [];
    for (const h of c.handlers.values()) {
      const labels = { type: h.type, handler: h.handler };
      out.push({ labels: { ...labels, outcome: 'ok' }, value: h.ok });
      out.push({ labels: { ...labels, outcome: 'failed' }, value: h.failed });
      out.push({ labels: { ...labels, outcome: 'timeout' }, value: h.timedOut });
    }
    return out;
  }).registerIn(registry);
  const durationName = `${prefix}_handler_duration_seconds`;
  new CollectedMetric(durationName, 'Time a handler took for one event', 'histogram', () => {
    const out: MetricSample[] = [];
    for (const h of c.handlers.values()) {
      const labels = { type: h.type, handler: h.handler };
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += h.buckets[i]!;
        out.push({ metricName: `${durationName}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      out.push({ metricName: `${durationName}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
      out.push({ metricName: `${durationName}_sum`, labels, value: h.sum });
      out.push({ metricName: `${durationName}_count`, labels, value: h.count });
    }
    return out;
  }).registerIn(registry);
}
