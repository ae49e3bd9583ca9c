import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '@sov/core';
import { applyFault } from './applyFault';
import { FaultServer } from './faultServer';

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
export class FaultyPeer extends FaultServer {
  private readonly handler: NonNullable<FaultyPeerOptions['handler']>;

  private constructor(server: Server, clock: Clock, handler: NonNullable<FaultyPeerOptions['handler']>) {
    super(server, clock);
    this.handler = handler;
  }

  /** Starts a peer on a free loopback port. */
  static async start(options: FaultyPeerOptions = {}): Promise<FaultyPeer> {
    const server = await FaultServer.listen(options.port);
    server.keepAliveTimeout = 5_000;
    return new FaultyPeer(server, options.clock ?? systemClock, options.handler ?? ((request) => request.params ?? null));
  }

  protected serve(req: IncomingMessage, res: ServerResponse): void {
    const handler = this.handler;
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
