import { RequestMetrics } from '@sov/core/internal';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The registry's Prometheus metrics, in a registry of their own (never the global one). */
export class RegistryMetrics {
  readonly registry = new Registry();
  /** HTTP requests by method, route and status, and their durations (plain counters read at scrape). */
  readonly requests: RequestMetrics;
  readonly events: Counter<'type'>;
  readonly subscribers: Gauge;
  readonly agents: Gauge;

  constructor(countAgents: () => Promise<number>, countSubscribers: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sov_registry_' });
    this.requests = new RequestMetrics(this.registry, {
      countName: 'sov_registry_http_requests_total',
      countHelp: 'HTTP requests by method, route and status',
      durationName: 'sov_registry_http_request_duration_seconds',
      durationHelp: 'HTTP request duration',
      labels: ['method', 'route', 'status'],
      durationLabels: 2,
    });
    this.events = new Counter({
      name: 'sov_registry_events_total',
      help: 'Registry events emitted by type',
      labelNames: ['type'],
      registers: [this.registry],
    });
    this.subscribers = new Gauge({
      name: 'sov_registry_event_subscribers',
      help: 'Open event streams',
      registers: [this.registry],
      collect() {
        this.set(countSubscribers());
      },
    });
    this.agents = new Gauge({
      name: 'sov_registry_agents',
      help: 'Registered agents (live or not yet swept)',
      registers: [this.registry],
      async collect() {
        this.set(await countAgents());
      },
    });
  }
}
