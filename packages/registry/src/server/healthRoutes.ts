import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SovError, toSovError } from '@sov/core';
import type { RegistryStore } from '../registryStore';
import { sendError } from './httpSetup';

/** What the probes read. */
export interface HealthRouteDeps {
  store: RegistryStore;
  /** Whether the registry is listening and not closing. */
  ready(): boolean;
  /** The registry's own Prometheus registry. */
  metrics: Registry;
}

/**
 * The probes: `GET /health` (the process answers), `GET /ready` (listening
 * and its store can write; 503 NOT_READY otherwise) and `GET /metrics`
 * (Prometheus text). None of them is rate limited.
 */
export function healthRoutes(app: FastifyInstance, deps: HealthRouteDeps): void {
  const { store, metrics } = deps;

  app.get('/health', (_req, reply) => reply.send({ success: true, status: 'ok' }));

  app.get('/ready', async (_req, reply) => {
    if (!deps.ready()) return sendError(reply, new SovError('NOT_READY', 'Registry is starting or stopping'));
    try {
      // A store that cannot write (disk full, database gone) makes the registry not ready, though it still reads.
      const health = store.health?.();
      if (health && !health.ok) {
        const detail = typeof health.detail === 'string' ? health.detail : JSON.stringify(health.detail ?? 'unhealthy');
        return sendError(reply, new SovError('NOT_READY', `Registry store cannot write: ${detail}`));
      }
      return reply.send({ success: true, status: 'ready', agents: await store.count() });
    } catch (e) {
      return sendError(reply, new SovError('NOT_READY', `Registry store unavailable: ${toSovError(e).message}`));
    }
  });

  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}
