import type { FastifyInstance } from 'fastify';
import { searchResponseSchema } from '../internal/schemas';
import { storeSearchOf } from '../internal/searchQuery';
import { toRecord } from '../storedAgent';
import type { RouteContext } from './routeContext';
import type { SearchCache } from './searchCache';

const JSON_UTF8 = 'application/json; charset=utf-8';
/** The serializer of an answer that is already JSON text. */
const asText = (body: unknown): string => body as string;

/**
 * `GET /v1/agents`: search by capability, reputation and price, a page at a
 * time. Answers are serialised by the response schema's compiled serializer
 * and kept in `cache` while they hold.
 */
export function searchRoutes(app: FastifyInstance, ctx: RouteContext, cache: SearchCache): void {
  const { store, clock, input } = ctx;
  const check = (query: Record<string, unknown>): void => void input.check('search', 'search', query);

  app.get('/v1/agents', { schema: { response: searchResponseSchema } }, async (req, reply) => {
    const now = clock.now();
    const cached = cache.get(req.url, now);
    if (cached !== undefined) return reply.type(JSON_UTF8).serializer(asText).send(cached);
    const search = storeSearchOf(req.query as Record<string, string | string[] | undefined>, check);
    const generation = cache.generation;
    const page = await store.search(search, now);
    const serialize = reply.getSerializationFunction('200') ?? JSON.stringify;
    const body = serialize({
      success: true,
      agents: page.agents.map((a) => toRecord(a, now)),
      total: page.total,
      nextCursor: page.nextCursor,
    });
    cache.set(req.url, generation, now, page.agents, body);
    return reply.type(JSON_UTF8).serializer(asText).send(body);
  });
}
