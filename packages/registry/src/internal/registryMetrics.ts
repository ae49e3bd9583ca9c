import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The registry's Prometheus metrics, in a registry of their own (never the global one). */
export class RegistryMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly events: Counter<'type'>;
  readonly subscribers: Gauge;
  readonly agents: Gauge;

  constructor(countAgents: () => Promise<number>, countSubscribers: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sov_registry_' });
    this.requests = new Counter({
      name: 'sov_registry_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'sov_registry_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
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
