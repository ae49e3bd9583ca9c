import type { FastifyInstance, FastifyReply } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { SovError, answerExpectationsInWireFormat, type Logger } from '@sov/core';
import { retryAfterHeader, type RequestMetrics } from '@sov/core/internal';
import { frameworkErrorOf, refuseMissingHost } from '../internal/wireErrorServer';

/** Answers with an error in the wire format; a Retry-After goes with it when the error carries one. */
export function sendError(reply: FastifyReply, error: SovError): FastifyReply {
  const retryAfter = retryAfterHeader(error);
  if (retryAfter !== undefined) void reply.header('retry-after', retryAfter);
  return reply.code(error.status).type('application/json').send(error.toWire());
}

/** How a registry's HTTP layer reads, refuses, counts and limits requests. */
export interface HttpSetupOptions {
  /** Largest request body in bytes (named in PAYLOAD_TOO_LARGE). */
  bodyLimit: number;
  logger: Logger;
  /** Counts each answer by method, route pattern and status. */
  requests: RequestMetrics;
  /** Requests per client (IP) per window, or false for no limit. */
  rateLimit: { max: number; windowMs: number } | false;
}

/** Routes that a probe or scraper calls often; never rate limited. */
const UNLIMITED = ['/health', '/ready', '/metrics'];

/**
 * Sets up what every route of the registry shares, before any route is
 * added: bodies kept as raw bytes (a signature covers them; routes parse them
 * with RequestInput), every refusal, fastify's own and an unknown route's
 * included, in the wire format, requests counted, and the rate limit.
 */
export async function httpSetup(app: FastifyInstance, options: HttpSetupOptions): Promise<void> {
  const { bodyLimit, logger, requests } = options;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', refuseMissingHost);
  answerExpectationsInWireFormat(app.server);
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    const known = frameworkErrorOf(err, { bodyLimit });
    if (known) return sendError(reply, known);
    logger.error('request failed', { error: err.message, stack: err.stack });
    return sendError(reply, new SovError('INTERNAL', 'Internal error'));
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new SovError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`)));
  app.addHook('onResponse', (req, reply, done) => {
    // The route pattern (not the URL, whose ids would make a label per agent).
    const route = req.routeOptions.url ?? 'unmatched';
    requests.record([req.method, route, String(reply.statusCode)], reply.elapsedTime / 1000);
    done();
  });
  if (options.rateLimit) {
    const windowMs = options.rateLimit.windowMs;
    await app.register(rateLimit, {
      max: options.rateLimit.max,
      timeWindow: windowMs,
      allowList: (req) => UNLIMITED.includes(req.url.split('?')[0] ?? ''),
      errorResponseBuilder: (_req, ctx) =>
        Object.assign(new Error(`Too many requests: ${ctx.max} per ${Math.round(windowMs / 1000)} s; retry in ${ctx.after}`), {
          statusCode: 429,
        }),
    });
  }
}
