import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { systemClock, type Clock } from '@sov/core';
import { applyFault } from './applyFault';
import { FaultServer } from './faultServer';

/** Options of FaultProxy.start. */
export interface FaultProxyOptions {
  /** The real server's base URL. Without one (or after `setTarget(undefined)`) every connection is dropped, as if the server were down. */
  target?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Clock for added latency. @default the system clock */
  clock?: Clock;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a real server (a registry, an agent)
 * that injects faults into the requests it forwards: added latency, error
 * answers, dropped connections, requests that hang. Point a client at
 * `proxy.url`; switch faults while the test runs.
 *
 * @example
 * const proxy = await FaultProxy.start();           // no target yet: the "registry" is down
 * const agent = new Agent({ name: 'a', registryUrl: proxy.url });
 * const starting = agent.start();                   // registration is retried
 * proxy.setTarget(registry.url);                    // the registry arrives late
 * await starting;
 */
export class FaultProxy extends FaultServer {
  private target: URL | undefined;

  private constructor(server: Server, clock: Clock, target: string | undefined) {
    super(server, clock);
    this.setTarget(target);
  }

  /** Starts a proxy on a free loopback port. */
  static async start(options: FaultProxyOptions = {}): Promise<FaultProxy> {
    return new FaultProxy(await FaultServer.listen(options.port), options.clock ?? systemClock, options.target);
  }

  /** Points the proxy at a server; `undefined` makes it drop every connection. */
  setTarget(target: string | undefined): this {
    this.target = target === undefined ? undefined : new URL(target);
    return this;
  }

  protected serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      const fault = this.target ? this.schedule.next() : { type: 'drop' as const };
      applyFault(fault, req, res, () => this.forward(req, res, Buffer.concat(chunks)), this.clock, this.timers);
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const target = this.target;
    if (!target) {
      req.socket.destroy();
      return;
    }
    const headers = { ...req.headers, host: target.host };
    const upstream = httpRequest(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      if (res.headersSent) return void res.destroy();
      const text = JSON.stringify({ success: false, error: { code: 'NETWORK_ERROR', message: `Proxy could not reach ${target.origin}: ${e.message}` } });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    upstream.end(body);
  }
}
