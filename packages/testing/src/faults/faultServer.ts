import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '@sov/core';
import { FaultSchedule, type Fault, type FaultOptions } from './fault';

/**
 * What FaultyPeer and FaultProxy share: a loopback HTTP server whose
 * connections and fault timers are tracked, so faults can be switched while
 * it runs and `close()` cuts everything, hung requests included.
 */
export abstract class FaultServer {
  /** The server's base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests received, faulted or not. */
  requests = 0;
  protected readonly schedule = new FaultSchedule();
  protected readonly timers = new Set<unknown>();
  private readonly sockets = new Set<Socket>();

  protected constructor(
    protected readonly server: Server,
    protected readonly clock: Clock,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.serve(req, res));
  }

  /** A server listening on 127.0.0.1 (a free port unless one is given), not yet serving. */
  protected static async listen(port = 0): Promise<Server> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return server;
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

  protected abstract serve(req: IncomingMessage, res: ServerResponse): void;
}
