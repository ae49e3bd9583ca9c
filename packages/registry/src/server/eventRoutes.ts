import type { FastifyInstance } from 'fastify';
import { REGISTRY_EVENT_TYPES, ValidationError, type RegistryEvent, type RegistryEventType } from '@sov/core';
import type { RouteContext } from './routeContext';
import type { Subscriber } from './eventHub';

const eventTypes = new Set<string>(REGISTRY_EVENT_TYPES);

/**
 * `GET /v1/events`: the registry's events as a server-sent event stream,
 * filtered by `type`, resumed after `Last-Event-ID` (header or
 * `lastEventId` query) from the store's replay window. Requests routed to an
 * agent go only to a stream that agent signed.
 */
export function eventRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, auth, events } = ctx;

  app.get('/v1/events', async (req, reply) => {
    const caller = await auth.caller(req, false);
    const q = req.query as Record<string, string | string[] | undefined>;
    const rawTypes = q.type === undefined ? [] : Array.isArray(q.type) ? q.type : [q.type];
    const unknown = rawTypes.filter((t) => !eventTypes.has(t));
    if (unknown.length) {
      throw new ValidationError('event filter', [
        { path: '/type', message: `must be one of ${REGISTRY_EVENT_TYPES.join(', ')} (got ${unknown.join(', ')})` },
      ]);
    }
    const header = req.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? (typeof q.lastEventId === 'string' ? q.lastEventId : undefined);
    const sub: Subscriber = {
      types: rawTypes.length ? new Set(rawTypes as RegistryEventType[]) : undefined,
      caller: caller?.id,
      res: reply.raw,
      lastSent: lastEventId === undefined ? 0 : Number(lastEventId),
      pending: [],
    };
    // Without Last-Event-ID a subscriber gets new events only (Last-Event-ID: 0 replays the whole window);
    // it is told where the stream stands, so that a reconnect resumes from there. Validated before the response starts.
    // Subscribed before the store is read: an event appended meanwhile waits in `pending` instead of falling between the two.
    events.add(sub);
    let replay: { events: RegistryEvent[]; truncated: boolean };
    let position: string | undefined;
    try {
      replay = lastEventId === undefined ? { events: [], truncated: false } : await store.eventsAfter(lastEventId);
      position = lastEventId === undefined ? await store.latestEventId() : undefined;
    } catch (e) {
      events.remove(sub);
      throw e;
    }
    if (position !== undefined) sub.lastSent = Number(position);
    // A client that left while the store was read gets no stream (its close came before the listener below).
    if (req.raw.socket.destroyed) events.remove(sub);
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: 1000\n${replay.truncated ? ': replay window exceeded; older events are gone\n' : ''}\n`);
    if (position !== undefined) reply.raw.write(`id: ${position}\nevent: stream_position\ndata: {}\n\n`);
    req.raw.on('close', () => events.remove(sub));
    events.goLive(sub, replay.events);
  });
}
