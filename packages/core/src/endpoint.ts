import { randomUUID } from 'node:crypto';
import { STATUS_CODES, createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { RequestMetrics } from './requestMetrics';
import { SovError, isSovError, toSovError } from './errors/sovError';
import type { Logger } from './logger';
import { receiverAuthorities } from './receiverAuthorities';
import { SESSION_PATH, type ReceiverBinding, type UnsignedReceipt, type VerifiedCaller, type Verifier } from './ports';
import { DEFAULT_MAX_JSON_DEPTH } from './jsonLimits';
import { parseJsonBody, retryAfterHeader } from './internal/requestWire';
import { InFlight } from './internal/inFlight';
import { MUX_MAX_STREAMS_HEADER, MUX_PATH, MUX_PROTOCOL } from './internal/muxFrames';
import { MuxServerConnection, type MuxReply, type MuxService } from './internal/muxServer';
import { RouteTable } from './internal/routeTable';
import { answerExpectationsInWireFormat, clientErrorHandler } from './wireErrorServer';
import type { AgentRequest, CallReceipt, RpcReply } from './wire';

/**
 * The RequestContext a handler gets. A class, not an object literal with
 * getters: V8 builds such a literal through the runtime, about 0.3 µs and
 * old-space garbage per request, which cost the endpoint a fifth of its
 * throughput in collections.
 */
class HandlerContext {
  private childLogger: Logger | undefined;

  constructor(
    readonly requestId: string,
    readonly caller: VerifiedCaller | undefined,
    private readonly flight: InFlight,
    private readonly base: Logger,
  ) {}

  get signal(): AbortSignal {
    return this.flight.signal;
  }

  /** A child logger costs more than the rest of a small request; it is made only when used. */
  get logger(): Logger {
    return (this.childLogger ??= this.base.child({ requestId: this.requestId }));
  }
}

/** What a request handler knows about the request it serves. */
export interface RequestContext {
  requestId: string;
  /** The verified caller; undefined for an anonymous call. */
  caller: VerifiedCaller | undefined;
  /** Aborted when the caller goes away or shutdown runs out of time. */
  signal: AbortSignal;
  logger: Logger;
}

/** Handles calls to the agent's request route (`POST /rpc`). */
export type RequestHandler = (request: AgentRequest, context: RequestContext) => RpcReply | Promise<RpcReply>;

/** A check's verdict: a boolean, or a verdict with details shown in /health or /ready. */
export type CheckResult = boolean | { ok: boolean; detail?: unknown };
/** A health or readiness check. */
export type Check = () => CheckResult | Promise<CheckResult>;

/** A request to a route added by a capability. */
export interface RouteRequest {
  method: string;
  path: string;
  /** The decoded values of the route's `:name` segments. */
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, when there is one. */
  body: unknown;
  caller: VerifiedCaller | undefined;
  requestId: string;
}

/** What a route answers. A string is sent as text, a readable stream as it comes (server-sent events), anything else as JSON. */
export interface RouteReply {
  /** @default 200 */
  status?: number;
  body?: unknown;
  /** @default 'application/json' for objects, 'text/plain' for strings */
  contentType?: string;
  headers?: Record<string, string>;
}

/** A route a capability adds to the agent's endpoint. */
export interface EndpointRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** Require a verified signature (when the endpoint has a verifier). @default true for POST, PUT, DELETE */
  signed?: boolean;
  handler: (request: RouteRequest) => RouteReply | Promise<RouteReply>;
}

/** Options of AgentEndpoint. */
export interface AgentEndpointOptions {
  host: string;
  port: number;
  /** URL to publish instead of the bound one. */
  publicUrl?: string;
  /**
   * More authorities (host:port) this agent is reached at, besides its
   * publicUrl and bound address; a request signed for any other authority is
   * refused (WRONG_RECEIVER) unless it names this agent's id. @default []
   */
  acceptAuthorities?: string[];
  /** @default 1048576 */
  bodyLimit?: number;
  /**
   * Deepest nesting of a request body (objects and arrays count one level
   * each); a deeper body is refused with 400 INVALID_INPUT naming the path,
   * before any handler, schema or reply serialisation sees it.
   * @default DEFAULT_MAX_JSON_DEPTH (64)
   */
  maxJsonDepth?: number;
  logger: Logger;
}

/** Hooks through which capabilities extend the endpoint before it listens. */
export interface EndpointRegistrar {
  addRoute(route: EndpointRoute): void;
  addHealthCheck(name: string, check: Check): void;
  addReadinessCheck(name: string, check: Check): void;
  /** Verifies signed calls; without one every call is anonymous. */
  setVerifier(verifier: Verifier, options?: { allowAnonymous?: boolean; receiverId?: string }): void;
  /**
   * Runs before every signed-route request is handled, after verification; throw a SovError to refuse
   * (a rate limiter answering RATE_LIMITED, for instance).
   */
  addGuard(guard: (request: RouteRequest) => void | Promise<void>): void;
  /**
   * Declares a work queue of a capability (an event queue, a batch) by its
   * depth, so that health checks (the resilience health monitor's queue
   * check) count it with the requests in flight.
   */
  addQueue(name: string, depth: () => number): void;
  /** The depth of every declared queue, by name. */
  queueDepths(): Record<string, number>;
}

async function runCheck(check: Check): Promise<{ ok: boolean; detail?: unknown }> {
  try {
    const r = await check();
    return typeof r === 'boolean' ? { ok: r } : r;
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

/** What the router holds for a path: a request served through the checks (`serve`), or a plain answer (health, metrics). */
type RouteEntry =
  | { kind: 'served'; label: string; signed: boolean; work: ServedWork }
  | { kind: 'plain'; answer: (res: ServerResponse) => Promise<void> };

/** The work of a served route once its request is verified and parsed. */
type ServedWork = (body: unknown, ctx: HandlerContext, headers: RequestHeaders, extra: RouteExtras) => Promise<RouteReply> | RouteReply;

/** A request's headers, names lowercased. */
type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a route added by a capability needs beyond the body: the path, its parameters and the query. */
interface RouteExtras {
  method: string;
  path: string;
  query: string;
  params: Record<string, string>;
}

const JSON_TYPE = 'application/json';
const JSON_UTF8 = 'application/json; charset=utf-8';
const TEXT_UTF8 = 'text/plain; charset=utf-8';
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const RPC_PATH = '/rpc';
/** A multiplexed request is a `POST /rpc` by another road: what its guards see. */
const MUX_EXTRAS: RouteExtras = { method: 'POST', path: RPC_PATH, query: '', params: {} };
/** Largest header block of a multiplexed request: node:http's default for a request's headers. */
const MUX_HEADER_LIMIT = 16 * 1024;
/** Calls one multiplexed connection serves at once. */
const MUX_MAX_STREAMS = 1024;
/** A multiplexed connection with no call in flight is closed after this long without a byte (as keep-alive HTTP connections). */
const MUX_IDLE_MS = 72_000;

/** Whether a Content-Type names JSON (`application/json`, any parameters). */
function isJsonType(type: string | undefined): boolean {
  if (type === undefined) return false;
  if (type === JSON_TYPE || type === JSON_UTF8) return true;
  const semi = type.indexOf(';');
  return (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase() === JSON_TYPE;
}

/** Parses a query string: repeated keys become arrays. */
function parseQuery(query: string): RouteRequest['query'] {
  const out: Record<string, string | string[]> = {};
  if (query.length === 0) return out;
  for (const [key, value] of new URLSearchParams(query)) {
    const previous = out[key];
    if (previous === undefined) out[key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[key] = [previous, value];
  }
  return out;
}

/** What a route handler and the guards see of a request. */
function routeRequestOf(extra: RouteExtras, headers: RequestHeaders, body: unknown, caller: VerifiedCaller | undefined, requestId: string): RouteRequest {
  return { method: extra.method, path: extra.path, params: extra.params, query: parseQuery(extra.query), headers, body, caller, requestId };
}

/** Writes a complete reply. */
function send(res: ServerResponse, status: number, contentType: string, payload: string, headers?: Record<string, string>, requestId?: string): void {
  if (res.headersSent || res.destroyed) return;
  if (headers) for (const name of Object.keys(headers)) res.setHeader(name, headers[name]!);
  if (requestId !== undefined) res.setHeader('x-request-id', requestId);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function isReadable(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function' && typeof (body as Readable).on === 'function';
}

/**
 * Streams a reply (server-sent events): no length, sent as it comes; the
 * stream is destroyed when the caller goes away. `done` runs once, when the
 * response is over either way.
 */
function stream(res: ServerResponse, status: number, contentType: string, body: Readable, headers: Record<string, string> | undefined, requestId: string, done: () => void): void {
  if (res.headersSent || res.destroyed) {
    body.destroy();
    done();
    return;
  }
  res.once('close', done);
  if (headers) for (const name of Object.keys(headers)) res.setHeader(name, headers[name]!);
  if (requestId !== undefined) res.setHeader('x-request-id', requestId);
  res.writeHead(status, { 'content-type': contentType });
  res.flushHeaders();
  body.on('error', () => res.destroy());
  res.once('close', () => body.destroy());
  body.pipe(res);
}

/** Refuses an upgrade on its raw socket, in the wire format, and closes the connection. */
function refuseUpgrade(socket: Socket, error: SovError): void {
  const body = JSON.stringify(error.toWire());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\ncontent-type: ${JSON_UTF8}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Answers with an error in the wire format; a Retry-After goes with it when the error carries one. */
function sendError(res: ServerResponse, error: SovError, requestId?: string, close = false): void {
  const headers: Record<string, string> = {};
  const retryAfter = retryAfterHeader(error);
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  if (close) headers.connection = 'close';
  send(res, error.status, JSON_UTF8, JSON.stringify(error.toWire()), headers, requestId);
}

/**
 * Reads a request body up to `limit` bytes. Refuses a Content-Length over the
 * limit before reading anything, and stops reading (and closes the
 * connection after the answer) once the bytes pass it.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', (cause) => reject(new SovError('MALFORMED_REQUEST', 'Request body could not be read', { cause })));
    // A caller that goes away mid-body: the request is not left in flight.
    req.once('close', () => !req.complete && reject(new SovError('UNAVAILABLE', 'Caller closed the connection before its body arrived')));
  });
}

function tooLarge(limit: number): SovError {
  return new SovError('PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes`);
}

const EMPTY = Buffer.alloc(0);

/**
 * The agent's HTTP endpoint, on node:http with a small router: `GET /health`,
 * `GET /ready`, `GET /metrics`, the request route `POST /rpc`, the session
 * handshake `POST /sov/session` when the verifier takes sessions, and the
 * routes capabilities add. A request is verified on its raw bytes before its
 * JSON is parsed, parsed once, and every refusal speaks the wire format.
 * Tracks requests in flight so that shutdown can stop intake and drain them.
 */
export class AgentEndpoint implements EndpointRegistrar {
  private readonly server: Server;
  private readonly options: AgentEndpointOptions;
  private readonly bodyLimit: number;
  private readonly routes = new RouteTable<RouteEntry>();
  private readonly healthChecks = new Map<string, Check>();
  private readonly readinessChecks = new Map<string, Check>();
  private readonly guards: Array<(request: RouteRequest) => void | Promise<void>> = [];
  private readonly queues = new Map<string, () => number>();
  /** Requests in flight, each able to abort its handler's signal. */
  private readonly active = new Set<InFlight>();
  private verifier: Verifier | undefined;
  private allowAnonymous = true;
  private handler: RequestHandler | undefined;
  private receipts: { agentId: string; sign: (receipt: UnsignedReceipt) => string } | undefined;
  private accepting = true;
  private listening = false;
  private sessionRoute = false;
  private drainWaiters: Array<() => void> = [];
  private boundUrl: string | undefined;
  private receiverId: string | undefined;
  /** Who this endpoint is, for the verifier; set once listening. */
  private receiver: ReceiverBinding | undefined;
  /** Open multiplexed connections (sov-mux/1), told to go away at close. */
  private readonly muxConnections = new Set<MuxServerConnection>();
  /** Requests being handled right now. */
  inFlight = 0;
  /** The agent's Prometheus registry, served at `GET /metrics`; capabilities add their metrics to it. */
  readonly metrics = new Registry();
  private readonly requestMetrics: RequestMetrics;
  /** Requests that came over multiplexed connections (they are counted in the request metrics too). */
  private readonly muxStreams: Counter;

  constructor(options: AgentEndpointOptions) {
    this.options = options;
    this.bodyLimit = options.bodyLimit ?? 1024 * 1024;
    // The Host check is ours (answered in the wire format), as are the parser's refusals.
    this.server = createServer({ requireHostHeader: false, keepAliveTimeout: 72_000 }, (req, res) => this.onRequest(req, res));
    this.server.on('clientError', clientErrorHandler);
    answerExpectationsInWireFormat(this.server);
    this.routes.add('GET', '/health', {
      kind: 'plain',
      answer: async (res) => {
        const checks = await this.runChecks(this.healthChecks);
        const ok = Object.values(checks).every((c) => c.ok);
        send(res, ok ? 200 : 503, JSON_UTF8, JSON.stringify({ success: true, status: ok ? 'ok' : 'unhealthy', checks }));
      },
    });
    this.routes.add('GET', '/ready', {
      kind: 'plain',
      answer: async (res) => {
        const checks = await this.runChecks(this.readinessChecks);
        checks.accepting = { ok: this.accepting };
        const ok = Object.values(checks).every((c) => c.ok);
        const body = ok
          ? { success: true, status: 'ready', checks }
          : { success: false, error: { code: 'NOT_READY', message: 'Agent is not ready' }, checks };
        send(res, ok ? 200 : 503, JSON_UTF8, JSON.stringify(body));
      },
    });
    collectDefaultMetrics({ register: this.metrics, prefix: 'sov_agent_' });
    this.requestMetrics = new RequestMetrics(this.metrics, {
      countName: 'sov_agent_requests_total',
      countHelp: 'Requests served by route and outcome code (ok or the error code)',
      durationName: 'sov_agent_request_duration_seconds',
      durationHelp: 'Time to serve a request, by route',
      labels: ['route', 'code'],
      durationLabels: 1,
    });
    this.muxStreams = new Counter({
      name: 'sov_agent_mux_requests_total',
      help: 'Requests to the request route that came over multiplexed (sov-mux/1) connections',
      registers: [this.metrics],
    });
    const muxConnections = this.muxConnections;
    new Gauge({
      name: 'sov_agent_mux_connections',
      help: 'Open multiplexed (sov-mux/1) connections',
      registers: [this.metrics],
      collect() {
        this.set(muxConnections.size);
      },
    });
    this.routes.add('GET', '/metrics', {
      kind: 'plain',
      answer: async (res) => send(res, 200, this.metrics.contentType, await this.metrics.metrics()),
    });
    this.routes.add('POST', RPC_PATH, {
      kind: 'served',
      label: RPC_PATH,
      signed: true,
      work: (body, ctx, headers) => this.rpcWork(body, ctx, headers),
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  /** The request route's work, whichever transport the request came by. */
  private async rpcWork(body: unknown, ctx: HandlerContext, headers: RequestHeaders): Promise<RouteReply> {
    if (!this.handler) throw new SovError('SERVICE_NOT_FOUND', 'This agent has no request handler');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SovError('INVALID_INPUT', 'Request body must be a JSON object');
    }
    const request = body as AgentRequest;
    const r = await this.handler(request, ctx);
    const reply: Record<string, unknown> = { ...r, success: true };
    // A receipt costs a signature: made only when the caller asks for one.
    if (ctx.caller && this.receipts && headers['x-sov-receipt'] === '1') reply.receipt = this.receipt(ctx.caller.id, request);
    return { body: reply };
  }

  /**
   * Signs a receipt for a call served to a verified caller that asks for one
   * (header `x-sov-receipt: 1`), returned as `receipt` in the reply: the
   * caller's proof of service for feedback.
   */
  setReceiptSigner(agentId: string, sign: (receipt: UnsignedReceipt) => string): void {
    this.receipts = { agentId, sign };
  }

  private receipt(caller: string, request: AgentRequest): CallReceipt {
    const unsigned: UnsignedReceipt = {
      id: randomUUID(),
      caller,
      callee: this.receipts!.agentId,
      service: typeof request.service === 'string' ? request.service : '',
      at: new Date().toISOString(),
    };
    return { ...unsigned, signature: this.receipts!.sign(unsigned) };
  }

  /** Sets the handler of `POST /rpc`. */
  setRequestHandler(handler: RequestHandler): void {
    this.handler = handler;
  }

  /**
   * Serves a request with the handler of `POST /rpc`, for a route that
   * checked the request itself (AgentContext.handleRequest). Rejects with
   * SERVICE_NOT_FOUND when there is no handler.
   */
  async dispatch(request: AgentRequest, context: RequestContext): Promise<RpcReply> {
    if (!this.handler) throw new SovError('SERVICE_NOT_FOUND', 'This agent has no request handler');
    return this.handler(request, context);
  }

  addRoute(route: EndpointRoute): void {
    if (this.listening) throw new SovError('LIFECYCLE', `Cannot add route ${route.method} ${route.url} after the endpoint listens`);
    const signed = route.signed ?? route.method !== 'GET';
    this.routes.add(route.method, route.url, {
      kind: 'served',
      label: route.url,
      signed,
      work: (body, ctx, headers, extra) => route.handler(routeRequestOf(extra, headers, body, ctx.caller, ctx.requestId)),
    });
  }

  addHealthCheck(name: string, check: Check): void {
    this.healthChecks.set(name, check);
  }

  addReadinessCheck(name: string, check: Check): void {
    this.readinessChecks.set(name, check);
  }

  /**
   * Verifies signed requests with `verifier`. `receiverId` is this agent's
   * id: requests must be signed for it (x-sov-receiver) or for one of this
   * endpoint's own authorities, so a capture cannot be spent at another agent.
   * A verifier that takes sessions (`acceptSession`) gets the handshake
   * route `POST /sov/session`, which takes per-request signatures only.
   */
  setVerifier(verifier: Verifier, options: { allowAnonymous?: boolean; receiverId?: string } = {}): void {
    this.verifier = verifier;
    this.allowAnonymous = options.allowAnonymous ?? false;
    this.receiverId = options.receiverId;
    if (verifier.acceptSession && !this.sessionRoute && !this.listening) {
      this.sessionRoute = true;
      this.routes.add('POST', SESSION_PATH, {
        kind: 'served',
        label: SESSION_PATH,
        signed: true,
        work: (body, ctx) => {
          const accept = this.verifier?.acceptSession;
          if (!accept) throw new SovError('ROUTE_NOT_FOUND', `No route POST ${SESSION_PATH}: this agent takes no sessions`);
          if (!ctx.caller) throw new SovError('UNAUTHORIZED', 'A session handshake must be signed with the caller identity key');
          return { body: { success: true, ...accept(ctx.caller, body) } };
        },
      });
    }
  }

  addGuard(guard: (request: RouteRequest) => void | Promise<void>): void {
    this.guards.push(guard);
  }

  addQueue(name: string, depth: () => number): void {
    if (this.queues.has(name)) throw new SovError('CONFLICT', `A queue named "${name}" is already declared on this endpoint`);
    this.queues.set(name, depth);
  }

  queueDepths(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, depth] of this.queues) {
      try {
        const d = depth();
        out[name] = Number.isFinite(d) && d > 0 ? d : 0;
      } catch {
        out[name] = 0;
      }
    }
    return out;
  }

  /** Binds the port and returns the URL to publish (the bound one unless publicUrl is set). */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.listening = true;
    this.accepting = true;
    const address = this.server.address() as AddressInfo;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    this.receiver = {
      ...(this.receiverId === undefined ? {} : { id: this.receiverId }),
      authorities: receiverAuthorities(`http://${host}:${address.port}`, this.options.publicUrl, this.options.acceptAuthorities),
    };
    let hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    if (hostname === '0.0.0.0' || hostname === '[::]') hostname = '127.0.0.1';
    this.boundUrl = (this.options.publicUrl ?? `http://${hostname}:${address.port}`).replace(/\/+$/, '');
    return this.boundUrl;
  }

  /** The published URL once listening. */
  get url(): string | undefined {
    return this.boundUrl;
  }

  /** Stops taking new work: requests from now on get 503 SHUTTING_DOWN; /health and /ready still answer. */
  stopIntake(): void {
    this.accepting = false;
  }

  /** Waits until no request is in flight, or the deadline passes. Resolves true when drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.drainWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return drained;
  }

  /** Aborts every request still in flight (their handlers see `signal.aborted`). */
  abortInFlight(reason: string): void {
    for (const r of this.active) r.abort(new SovError('SHUTTING_DOWN', reason));
  }

  /** Closes the server and every connection. */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    for (const connection of this.muxConnections) connection.goAway(new SovError('SHUTTING_DOWN', 'Agent is shutting down'));
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Connections still busy after the drain are cut, so close never hangs.
    this.server.closeAllConnections();
    await closing;
  }

  private async runChecks(checks: Map<string, Check>): Promise<Record<string, { ok: boolean; detail?: unknown }>> {
    const out: Record<string, { ok: boolean; detail?: unknown }> = {};
    await Promise.all([...checks].map(async ([name, check]) => (out[name] = await runCheck(check))));
    return out;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      sendError(res, new SovError('MALFORMED_REQUEST', 'An HTTP/1.1 request must carry a Host header'), undefined, true);
      return;
    }
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const method = req.method ?? 'GET';
    let match;
    try {
      match = this.routes.find(method, path);
    } catch (e) {
      sendError(res, toSovError(e));
      return;
    }
    if (!match) {
      sendError(res, new SovError('ROUTE_NOT_FOUND', `No route ${method} ${path.slice(0, 200)}`));
      return;
    }
    const entry = match.entry;
    if (entry.kind === 'plain') {
      entry.answer(res).catch((e: unknown) => this.internalError(res, e));
      return;
    }
    this.serve(entry.label, entry.signed, entry.work, req, res, { method, path, query: q < 0 ? '' : target.slice(q + 1), params: match.params }).catch((e: unknown) =>
      this.internalError(res, e),
    );
  }

  /**
   * An HTTP Upgrade. `GET /sov/mux` with `Upgrade: sov-mux/1` switches the
   * connection to multiplexed calls (see internal/muxFrames.ts); any other
   * upgrade (h2c, websocket) is declined and the request is served as plain
   * HTTP/1.1 when it has no body, as RFC 9110 lets a server ignore an Upgrade.
   */
  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const protocol = String(req.headers.upgrade ?? '').trim().toLowerCase();
    if (path !== MUX_PATH || protocol !== MUX_PROTOCOL) {
      if (req.method === 'GET' || req.method === 'HEAD') this.serveDeclinedUpgrade(req, socket);
      else refuseUpgrade(socket, new SovError('MALFORMED_REQUEST', `This endpoint upgrades only GET ${MUX_PATH} to ${MUX_PROTOCOL}`));
      return;
    }
    if (req.method !== 'GET') return refuseUpgrade(socket, new SovError('MALFORMED_REQUEST', `${MUX_PROTOCOL} is opened with GET ${MUX_PATH}`));
    const authority = req.headers.host;
    if (authority === undefined) return refuseUpgrade(socket, new SovError('MALFORMED_REQUEST', 'An HTTP/1.1 request must carry a Host header'));
    if (!this.accepting) return refuseUpgrade(socket, new SovError('SHUTTING_DOWN', 'Agent is shutting down and takes no new requests'));
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${MUX_PROTOCOL}\r\n${MUX_MAX_STREAMS_HEADER}: ${MUX_MAX_STREAMS}\r\n\r\n`);
    const service: MuxService = {
      serve: (headers, body, flight) => this.serveMux(authority, headers, body, flight),
      refusal: (error) => this.refusal(error),
      bodyLimit: this.bodyLimit,
      headerLimit: MUX_HEADER_LIMIT,
      maxStreams: MUX_MAX_STREAMS,
      idleMs: MUX_IDLE_MS,
    };
    const connection = new MuxServerConnection(socket, service, head);
    this.muxConnections.add(connection);
    socket.once('close', () => this.muxConnections.delete(connection));
  }

  /** Serves a request whose upgrade is declined as HTTP/1.1, and closes the connection after the answer. */
  private serveDeclinedUpgrade(req: IncomingMessage, socket: Socket): void {
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => {
      res.detachSocket(socket);
      socket.end();
    });
    this.onRequest(req, res);
  }

  private internalError(res: ServerResponse, e: unknown): void {
    this.options.logger.error('request failed', { error: e instanceof Error ? e.message : String(e) });
    sendError(res, new SovError('INTERNAL', 'Internal error'));
  }

  private async serve(label: string, signed: boolean, work: ServedWork, req: IncomingMessage, res: ServerResponse, extra: RouteExtras): Promise<void> {
    const requestId = requestIdOf(req.headers['x-request-id']);
    if (!this.accepting) {
      sendError(res, new SovError('SHUTTING_DOWN', 'Agent is shutting down and takes no new requests'), requestId, true);
      return;
    }
    this.inFlight++;
    const started = performance.now();
    let outcome = 'ok';
    const flight = new InFlight(res);
    this.active.add(flight);
    let streaming = false;
    try {
      const type = req.headers['content-type'];
      const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
      if (hasBody && !isJsonType(type)) throw new SovError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json');
      const raw = hasBody ? await readBody(req, this.bodyLimit) : EMPTY;
      const { caller, body } = await this.admit(signed, req.url ?? '/', req.headers.host ?? '', req.headers, raw, extra, requestId);
      const out = await work(body, new HandlerContext(requestId, caller, flight, this.options.logger), req.headers, extra);
      const status = out.status ?? 200;
      if (typeof out.body === 'string') send(res, status, out.contentType ?? TEXT_UTF8, out.body, out.headers, requestId);
      else if (isReadable(out.body)) {
        // A stream is a request in flight until it ends: the drain waits for it, abortInFlight ends it.
        streaming = true;
        stream(res, status, out.contentType ?? 'application/octet-stream', out.body, out.headers, requestId, () => this.release(flight));
      }
      else send(res, status, out.contentType ?? JSON_UTF8, JSON.stringify(out.body ?? {}), out.headers, requestId);
    } catch (e) {
      const err = this.failure(e, requestId);
      outcome = err.code;
      // A body left unread (too large) is not drained: the connection closes after the answer.
      sendError(res, err, requestId, err.code === 'PAYLOAD_TOO_LARGE');
    } finally {
      this.requestMetrics.record([label, outcome], (performance.now() - started) / 1000);
      if (!streaming) this.release(flight);
    }
  }

  /**
   * Serves one request that came over a multiplexed connection (sov-mux/1)
   * to the request route, exactly as `POST /rpc` serves it: verified on its
   * raw bytes against the same receiver, parsed once, guarded, handled.
   */
  private async serveMux(authority: string, headers: Record<string, string>, raw: Buffer, flight: InFlight): Promise<MuxReply> {
    const requestId = requestIdOf(headers['x-request-id']);
    if (!this.accepting) return this.refusal(new SovError('SHUTTING_DOWN', 'Agent is shutting down and takes no new requests'));
    this.inFlight++;
    this.muxStreams.inc();
    const started = performance.now();
    let outcome = 'ok';
    this.active.add(flight);
    try {
      const { caller, body } = await this.admit(true, RPC_PATH, authority, headers, raw, MUX_EXTRAS, requestId);
      const out = await this.rpcWork(body, new HandlerContext(requestId, caller, flight, this.options.logger), headers);
      return { status: 200, text: JSON.stringify(out.body) };
    } catch (e) {
      const err = this.failure(e, requestId);
      outcome = err.code;
      return this.refusal(err);
    } finally {
      this.requestMetrics.record(['/rpc', outcome], (performance.now() - started) / 1000);
      this.release(flight);
    }
  }

  private refusal(error: SovError): MuxReply {
    return { status: error.status, text: JSON.stringify(error.toWire()) };
  }

  /**
   * What every served request goes through before its route's work: the
   * signature checked on the raw bytes (when the route is signed), then the
   * JSON parsed and its depth measured, then the guards.
   */
  private async admit(
    signed: boolean,
    path: string,
    authority: string,
    headers: RequestHeaders,
    raw: Buffer,
    extra: RouteExtras,
    requestId: string,
  ): Promise<{ caller: VerifiedCaller | undefined; body: unknown }> {
    let caller: VerifiedCaller | undefined;
    if (this.verifier && signed) {
      const verifiable = {
        method: extra.method,
        path,
        authority,
        ...(this.receiver ? { receiver: this.receiver } : {}),
        headers,
        body: raw,
      };
      if (this.verifier.isSigned(verifiable)) caller = await this.verifier.verify(verifiable);
      else if (!this.allowAnonymous) throw new SovError('UNAUTHORIZED', 'This endpoint accepts signed requests only');
    }
    const body = raw.length > 0 ? parseJsonBody(raw, this.options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH) : undefined;
    if (this.guards.length > 0) {
      const routeRequest = routeRequestOf(extra, headers, body, caller, requestId);
      for (const guard of this.guards) await guard(routeRequest);
    }
    return { caller, body };
  }

  /** The error a failed request answers: a bug is logged with its stack and told to the caller only as INTERNAL. */
  private failure(e: unknown, requestId: string): SovError {
    const err = toSovError(e);
    if (err.code !== 'INTERNAL') return err;
    this.options.logger.error('request failed', { requestId, error: err.message, ...(e instanceof Error && !isSovError(e) ? { stack: e.stack } : {}) });
    // What a bug says stays in the log: the caller learns only that it happened.
    return isSovError(e) ? err : new SovError('INTERNAL', 'Internal error');
  }

  /** A request is done: no longer in flight, and the drain hears of it when it was the last. */
  private release(flight: InFlight): void {
    if (!this.active.delete(flight)) return;
    this.inFlight--;
    if (this.inFlight === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }
}

function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}
