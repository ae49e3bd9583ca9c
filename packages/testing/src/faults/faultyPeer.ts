import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock, type Clock } from '@sov/core';
import { FaultSchedule, type Fault, type FaultOptions } from './fault';
import { applyFault } from './applyFault';

/** Options of FaultyPeer.start. */
export interface FaultyPeerOptions {
  /** Answers `POST /rpc` when no fault applies. @default echoes the request's params: `{ result: params }` */
  handler?: (request: { service?: string; params?: unknown }) => unknown;
  /** @default 0 (a free port) */
  port?: number;
  /** Clock for added latency. @default the system clock */
  clock?: Clock;
}

/**
 * A real HTTP peer on 127.0.0.1 speaking the agent wire (`POST /rpc`,
 * `GET /health`) whose behaviour can be switched while it runs: added
 * latency, error answers, dropped connections, requests that hang.
 *
 * @example
 * const peer = await FaultyPeer.start();
 * peer.inject({ type: 'error', status: 503, code: 'UNAVAILABLE' }, { times: 2 });
 * await resilience.callPeer(peer.url, { service: 'echo', params: 1 }); // succeeds on the third attempt
 * peer.inject({ type: 'hang' });
 * await peer.close();
 */
export class FaultyPeer {
  /** The peer's base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests received on `/rpc`, faulted or not. */
  requests = 0;
  private readonly schedule = new FaultSchedule();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<unknown>();

  private constructor(
    private readonly server: Server,
    private readonly clock: Clock,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts a peer on a free loopback port. */
  static async start(options: FaultyPeerOptions = {}): Promise<FaultyPeer> {
    const handler = options.handler ?? ((request) => request.params ?? null);
    const server = createServer((req, res) => peer.serve(req, res, handler));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket) => {
      peer.sockets.add(socket);
      socket.once('close', () => peer.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const peer = new FaultyPeer(server, options.clock ?? systemClock);
    return peer;
  }

  /** Applies `fault` to every request until changed, or to the next `times` requests. */
  inject(fault: Fault, options?: FaultOptions): this {
    this.schedule.inject(fault, options);
    return this;
  }

  /** Back to normal behaviour. */
  clear(): this {
    this.schedule.clear();
    return this;
  }

  /** Stops the server and cuts every connection, hung requests included. */
  async close(): Promise<void> {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private serve(req: IncomingMessage, res: ServerResponse, handler: NonNullable<FaultyPeerOptions['handler']>): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/health') return json(res, 200, { success: true, status: 'ok' });
      if (req.method !== 'POST' || req.url !== '/rpc') {
        return json(res, 404, { success: false, error: { code: 'ROUTE_NOT_FOUND', message: `No route ${req.method} ${req.url}` } });
      }
      this.requests++;
      const answer = () => {
        let body: { service?: string; params?: unknown } = {};
        try {
          body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body) : {};
        } catch {
          return json(res, 400, { success: false, error: { code: 'INVALID_JSON', message: 'Request body is not valid JSON' } });
        }
        Promise.resolve()
          .then(() => handler(body))
          .then(
            (result) => json(res, 200, { success: true, result }),
            (e: unknown) => json(res, 500, { success: false, error: { code: 'HANDLER_FAILED', message: e instanceof Error ? e.message : String(e) } }),
          );
      };
      applyFault(this.schedule.next(), req, res, answer, this.clock, this.timers);
    });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
