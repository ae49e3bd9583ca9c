import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { RequestMetrics } from './requestMetrics';
import { SovError, toSovError } from './errors/sovError';
import type { Logger } from './logger';
import { withRequestId } from './logger';
import { receiverAuthorities } from './receiverAuthorities';
import type { ReceiverBinding, UnsignedReceipt, VerifiedCaller, Verifier } from './ports';
import { ValidationError } from './errors/validationError';
import { DEFAULT_MAX_JSON_DEPTH, jsonDepthProblem } from './jsonLimits';
import { answerExpectationsInWireFormat, frameworkErrorOf, refuseMissingHost, wireErrorServerOptions } from './wireErrorServer';
import type { AgentRequest, CallReceipt, RpcReply } from './wire';

/** A request being served; its AbortController is made only if the handler reads the signal. */
class InFlight {
  private controller: AbortController | undefined;
  private reason: unknown;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

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
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, when there is one. */
  body: unknown;
  caller: VerifiedCaller | undefined;
  requestId: string;
}

/** What a route answers. An object body is sent as JSON. */
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

function sendError(reply: FastifyReply, error: SovError): FastifyReply {
  const retryAfterMs = (error.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof retryAfterMs === 'number') void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return reply.code(error.status).type('application/json').send(error.toWire());
}

/**
 * The agent's HTTP endpoint (fastify): `GET /health`, `GET /ready`, the request
 * route `POST /rpc`, and the routes capabilities add. Tracks requests in flight
 * so that shutdown can stop intake and drain them.
 */
export class AgentEndpoint implements EndpointRegistrar {
  private readonly server: FastifyInstance;
  private readonly options: AgentEndpointOptions;
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
  private drainWaiters: Array<() => void> = [];
  private boundUrl: string | undefined;
  private receiverId: string | undefined;
  /** Who this endpoint is, for the verifier; set once listening. */
  private receiver: ReceiverBinding | undefined;
  /** Requests being handled right now. */
  inFlight = 0;
  /** The agent's Prometheus registry, served at `GET /metrics`; capabilities add their metrics to it. */
  readonly metrics = new Registry();
  private readonly requestMetrics: RequestMetrics;

  constructor(options: AgentEndpointOptions) {
    this.options = options;
    const limits = { bodyLimit: options.bodyLimit ?? 1024 * 1024 };
    // Every refusal, the HTTP layer's before routing included, speaks the wire format.
    this.server = Fastify({ logger: false, ...wireErrorServerOptions(limits), forceCloseConnections: 'idle' });
    this.server.addHook('onRequest', refuseMissingHost);
    answerExpectationsInWireFormat(this.server.server);
    // Keep the raw bytes: signatures cover them, and JSON is parsed only after verification.
    this.server.removeAllContentTypeParsers();
    this.server.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    this.server.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
      const known = frameworkErrorOf(err, limits);
      if (known) return sendError(reply, known);
      this.options.logger.error('request failed', { error: err.message, stack: err.stack });
      return sendError(reply, new SovError('INTERNAL', 'Internal error'));
    });
    this.server.setNotFoundHandler((req, reply) =>
      sendError(reply, new SovError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`)),
    );
    this.server.get('/health', async (_req, reply) => {
      const checks = await this.runChecks(this.healthChecks);
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ success: true, status: ok ? 'ok' : 'unhealthy', checks });
    });
    this.server.get('/ready', async (_req, reply) => {
      const checks = await this.runChecks(this.readinessChecks);
      checks.accepting = { ok: this.accepting };
      const ok = Object.values(checks).every((c) => c.ok);
      if (!ok) {
        return reply.code(503).send({ success: false, error: { code: 'NOT_READY', message: 'Agent is not ready' }, checks });
      }
      return reply.send({ success: true, status: 'ready', checks });
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
    this.server.get('/metrics', async (_req, reply) => reply.type(this.metrics.contentType).send(await this.metrics.metrics()));
    this.server.post('/rpc', (req, reply) =>
      this.serve('/rpc', req, reply, true, async (body, ctx) => {
        if (!this.handler) throw new SovError('SERVICE_NOT_FOUND', 'This agent has no request handler');
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new SovError('INVALID_INPUT', 'Request body must be a JSON object');
        }
        const request = body as AgentRequest;
        const r = await this.handler(request, ctx);
        const reply: Record<string, unknown> = { ...r, success: true };
        // A receipt costs a signature: made only when the caller asks for one.
        if (ctx.caller && this.receipts && req.headers['x-sov-receipt'] === '1') reply.receipt = this.receipt(ctx.caller.id, request);
        return { body: reply };
      }),
    );
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
    this.server.route({
      method: route.method,
      url: route.url,
      handler: (req, reply) =>
        this.serve(route.url, req, reply, signed, (body, ctx) =>
          route.handler({
            method: req.method,
            path: req.url.split('?')[0] ?? req.url,
            query: req.query as RouteRequest['query'],
            headers: req.headers,
            body,
            caller: ctx.caller,
            requestId: ctx.requestId,
          }),
        ),
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
   */
  setVerifier(verifier: Verifier, options: { allowAnonymous?: boolean; receiverId?: string } = {}): void {
    this.verifier = verifier;
    this.allowAnonymous = options.allowAnonymous ?? false;
    this.receiverId = options.receiverId;
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
    const address = await this.server.listen({ host: this.options.host, port: this.options.port });
    this.listening = true;
    this.accepting = true;
    const bound = new URL(address);
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    this.receiver = {
      ...(this.receiverId === undefined ? {} : { id: this.receiverId }),
      authorities: receiverAuthorities(`http://${host}:${bound.port}`, this.options.publicUrl, this.options.acceptAuthorities),
    };
    if (bound.hostname === '0.0.0.0' || bound.hostname === '[::]') bound.hostname = '127.0.0.1';
    this.boundUrl = (this.options.publicUrl ?? bound.toString()).replace(/\/+$/, '');
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
    const closing = this.server.close();
    // Connections still busy after the drain are cut, so close never hangs.
    this.server.server.closeAllConnections();
    await closing;
  }

  private async runChecks(checks: Map<string, Check>): Promise<Record<string, { ok: boolean; detail?: unknown }>> {
    const out: Record<string, { ok: boolean; detail?: unknown }> = {};
    await Promise.all([...checks].map(async ([name, check]) => (out[name] = await runCheck(check))));
    return out;
  }

  private async serve(
    route: string,
    req: FastifyRequest,
    reply: FastifyReply,
    signed: boolean,
    work: (body: unknown, ctx: RequestContext) => Promise<RouteReply> | RouteReply,
  ): Promise<FastifyReply> {
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
    void reply.header('x-request-id', requestId);
    if (!this.accepting) {
      void reply.header('connection', 'close');
      return sendError(reply, new SovError('SHUTTING_DOWN', 'Agent is shutting down and takes no new requests'));
    }
    this.inFlight++;
    const started = performance.now();
    let outcome = 'ok';
    const flight = new InFlight();
    this.active.add(flight);
    // The response closes before it finished only when the caller went away.
    const onClose = () => {
      if (!reply.raw.writableFinished) flight.abort(new SovError('UNAVAILABLE', 'Caller closed the connection'));
    };
    reply.raw.once('close', onClose);
    try {
      return await withRequestId(requestId, async () => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        let caller: VerifiedCaller | undefined;
        if (this.verifier && signed) {
          const verifiable = {
            method: req.method,
            path: req.url,
            authority: req.headers.host ?? '',
            ...(this.receiver ? { receiver: this.receiver } : {}),
            headers: req.headers,
            body: raw,
          };
          if (this.verifier.isSigned(verifiable)) caller = await this.verifier.verify(verifiable);
          else if (!this.allowAnonymous) throw new SovError('UNAUTHORIZED', 'This endpoint accepts signed requests only');
        }
        let body: unknown;
        if (raw.length > 0) {
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch (cause) {
            throw new SovError('INVALID_JSON', `Request body is not valid JSON: ${(cause as Error).message}`);
          }
          // Measured before anything recursive (ajv, JSON.stringify of a reply) touches it.
          const deep = jsonDepthProblem(body, this.options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH);
          if (deep) {
            const path = deep.path.length > 200 ? `${deep.path.slice(0, 200)}...` : deep.path || '/';
            throw new ValidationError('request body', [{ path, message: deep.reason }]);
          }
        }
        const routeRequest: RouteRequest = {
          method: req.method,
          path: req.url.split('?')[0] ?? req.url,
          query: req.query as RouteRequest['query'],
          headers: req.headers,
          body,
          caller,
          requestId,
        };
        for (const guard of this.guards) await guard(routeRequest);
        const out = await work(body, new HandlerContext(requestId, caller, flight, this.options.logger));
        const status = out.status ?? 200;
        if (out.headers) void reply.headers(out.headers);
        if (typeof out.body === 'string') return reply.code(status).type(out.contentType ?? 'text/plain; charset=utf-8').send(out.body);
        return reply.code(status).type(out.contentType ?? 'application/json').send(out.body ?? {});
      });
    } catch (e) {
      const err = toSovError(e);
      outcome = err.code;
      if (err.code === 'INTERNAL') this.options.logger.error('request failed', { requestId, error: err.message });
      return sendError(reply, err);
    } finally {
      this.requestMetrics.record([route, outcome], (performance.now() - started) / 1000);
      reply.raw.off('close', onClose);
      this.active.delete(flight);
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of waiters) w();
      }
    }
  }
}
