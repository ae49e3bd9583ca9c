import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { SovError, isSovError } from './errors/sovError';

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
 * not know (the caller answers INTERNAL and logs it). Shared server plumbing
 * of the agent endpoint and the registry: their error handlers call it.
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

/** The status and SovError of an error node's HTTP parser raised on a connection. */
function clientErrorOf(err: Error & { code?: string; reason?: string }): { status: number; error: SovError } {
  const detail = err.reason ? `${err.code ?? 'error'} ${err.reason}` : (err.code ?? err.message);
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: new SovError('HEADERS_TOO_LARGE', 'Request headers (the request line included) are larger than the server accepts') };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: new SovError('TIMEOUT', 'The request did not arrive in time') };
    default:
      return { status: 400, error: new SovError('MALFORMED_REQUEST', `Malformed HTTP request: ${shown(detail)}`) };
  }
}

/** The JSON wire reply written on the raw socket: a complete HTTP/1.1 response that closes the connection. */
function rawWireResponse(status: number, error: SovError): string {
  const body = JSON.stringify(error.toWire());
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n\r\n' +
    body
  );
}

/**
 * Answers what node's HTTP parser refused (over-large headers, conflicting
 * Content-Length and Transfer-Encoding, a bad chunk size ...) in the wire
 * format, on the raw socket when it is still writable and no response has
 * started on it, then closes the connection.
 */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (!socket.writable || started) {
    socket.destroy();
    return;
  }
  const { status, error } = clientErrorOf(err);
  socket.end(rawWireResponse(status, error), () => socket.destroy());
}

/** Answers a framework error (bad URL encoding, an over-long path parameter) in the wire format. */
function frameworkErrors(limits: WireErrorServerLimits) {
  return (err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void => {
    const error = frameworkErrorOf(err, limits) ?? new SovError('INTERNAL', 'Internal error');
    void reply.code(error.status).type('application/json').send(error.toWire());
  };
}

/**
 * Shared server plumbing of the agent endpoint and the registry: fastify
 * options under which every answer the HTTP layer gives before routing
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

/**
 * Answers a request whose `Expect` header is not `100-continue` with 417 in
 * the wire format. Node answers it itself with an empty body unless the
 * server listens for 'checkExpectation'.
 */
export function answerExpectationsInWireFormat(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const expect = String(req.headers.expect ?? '').slice(0, 80);
    const body = JSON.stringify(new SovError('EXPECTATION_FAILED', `Cannot meet Expect: ${JSON.stringify(expect)}; only 100-continue is supported`).toWire());
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
}
