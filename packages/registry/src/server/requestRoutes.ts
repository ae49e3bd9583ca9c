import type { FastifyInstance } from 'fastify';
import { liveAt, notRegistered, type RouteContext } from './routeContext';

/**
 * `POST /v1/agents/:id/requests`: a request routed to a live agent through
 * the registry, handed to it as a `new_request` event on its own (signed)
 * event stream; answers with the request's id.
 */
export function requestRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, clock, auth, input, events } = ctx;

  app.post<{ Params: { id: string } }>('/v1/agents/:id/requests', async (req) => {
    const caller = await auth.caller(req, true);
    const request = input.check<{ service?: string; params?: unknown }>('request', 'request', input.body(req));
    const target = liveAt(await store.get(req.params.id), clock.now());
    if (!target) throw notRegistered(req.params.id);
    const requestId = `${clock.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    await events.publish('new_request', {
      peer_id: target.id,
      request_id: requestId,
      from: caller?.id ?? null,
      ...(request.service !== undefined ? { service: request.service } : {}),
      ...(request.params !== undefined ? { params: request.params } : {}),
    });
    return { success: true, requestId };
  });
}
