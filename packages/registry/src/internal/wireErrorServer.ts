import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { ServerOptions } from 'node:http';
import { SovError, clientErrorHandler, isSovError } from '@sov/core';

/** Limits of a server built with wireErrorServerOptions. */
export interface WireErrorServerLimits {
  /** Largest request body in bytes, named in the PAYLOAD_TOO_LARGE message. @default 1048576 */
  bodyLimit?: number;
  /** Longest path parameter in characters; a longer one gets 414 URI_TOO_LONG. @default 100 */
  maxParamLength?: number;
}

/** The fastify options that wireErrorServerOptions sets. */
export interface WireErrorServerOptions extends Pick<FastifyServerOptions, 'bodyLimit' | 'routerOptions' | 'frameworkErrors' | 'clientErrorHandler'> {
  /** Node's server options: the Host check is left to `refuseMissingHost`, which answers in the wire format. */
  http: ServerOptions;
}

const MAX_SHOWN = 120;
const shown = (text: string): string => (text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text);

/**
 * The SovError for an error that fastify raised before or around a route
 * (framework, content-type and body errors), or undefined for one it does
 * not know (the caller answers INTERNAL and logs it). The registry's error
 * handlers call it.
 */
export function frameworkErrorOf(err: Error & { code?: string; statusCode?: number }, limits: WireErrorServerLimits = {}): SovError | undefined {
  if (isSovError(err)) return err;
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new SovError('MALFORMED_REQUEST', `Bad URL: ${shown(err.message)}`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new SovError('URI_TOO_LONG', `A path parameter is longer than ${limits.maxParamLength ?? 100} characters`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SovError('PAYLOAD_TOO_LARGE', `Request body is larger than ${limits.bodyLimit ?? 1048576} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SovError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SovError('MALFORMED_REQUEST', 'Request body length does not match its Content-Length');
    default:
  }
  if (err.statusCode === 429) return new SovError('RATE_LIMITED', err.message);
  if (err.statusCode === 413) return new SovError('PAYLOAD_TOO_LARGE', err.message);
  if (err.statusCode === 415) return new SovError('UNSUPPORTED_MEDIA_TYPE', err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new SovError('MALFORMED_REQUEST', err.message);
  return undefined;
}

/** Answers a framework error (bad URL encoding, an over-long path parameter) in the wire format. */
function frameworkErrors(limits: WireErrorServerLimits) {
  return (err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void => {
    const error = frameworkErrorOf(err, limits) ?? new SovError('INTERNAL', 'Internal error');
    void reply.code(error.status).type('application/json').send(error.toWire());
  };
}

/**
 * The registry's fastify options under which every answer the HTTP layer gives before routing
 * speaks the wire format `{ success: false, error: { code, message } }`
 * with an SDK code:
 *
 * - a bad URL (`/%ZZ`): 400 MALFORMED_REQUEST; an over-long path parameter:
 *   414 URI_TOO_LONG (fastify's `frameworkErrors`);
 * - what node's parser refuses on the connection: 431 HEADERS_TOO_LARGE,
 *   400 MALFORMED_REQUEST for bad framing (conflicting Content-Length and
 *   Transfer-Encoding, a bad chunk size), written as a complete HTTP/1.1
 *   response with `connection: close` on the raw socket
 *   (`clientErrorHandler`);
 * - an HTTP/1.1 request without a Host header reaches the server (node would
 *   answer it with an empty 400): the server refuses it with
 *   `refuseMissingHost` as an `onRequest` hook.
 *
 * Errors raised inside a request (body too large, wrong media type) are the
 * error handler's: map them with `frameworkErrorOf`.
 *
 * @example
 * const app = Fastify({ logger: false, ...wireErrorServerOptions({ bodyLimit }) });
 * app.addHook('onRequest', refuseMissingHost);
 */
export function wireErrorServerOptions(limits: WireErrorServerLimits = {}): WireErrorServerOptions {
  return {
    bodyLimit: limits.bodyLimit ?? 1048576,
    routerOptions: { maxParamLength: limits.maxParamLength ?? 100 },
    frameworkErrors: frameworkErrors(limits),
    clientErrorHandler,
    http: { requireHostHeader: false },
  };
}

/**
 * An `onRequest` hook that refuses an HTTP/1.1 request without a Host header
 * (RFC 9112 § 3.2) with 400 MALFORMED_REQUEST in the wire format. Goes with
 * wireErrorServerOptions, which lets such requests through to it.
 */
export function refuseMissingHost(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (req.headers.host !== undefined || req.raw.httpVersion !== '1.1') {
    done();
    return;
  }
  const error = new SovError('MALFORMED_REQUEST', 'An HTTP/1.1 request must carry a Host header');
  void reply.code(400).header('connection', 'close').type('application/json').send(error.toWire());
}

