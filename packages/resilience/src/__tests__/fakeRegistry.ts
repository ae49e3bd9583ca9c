import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentRecord, AgentRegistration } from '@sov/core';

/**
 * The few registry routes core's HttpRegistryClient calls, on a loopback
 * port: enough to test registration, heartbeats, lost leases and
 * deregistration against a real HTTP exchange.
 */
export class FakeRegistry {
  readonly url: string;
  readonly agents = new Map<string, AgentRecord>();
  registrations = 0;
  heartbeats = 0;
  deregistrations = 0;

  private constructor(private readonly server: Server) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<FakeRegistry> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => registry.route(req.method ?? 'GET', req.url ?? '/', chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const registry = new FakeRegistry(server);
    return registry;
  }

  /** Drops an agent's lease, as if it had expired. */
  forget(id: string): void {
    this.agents.delete(id);
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    return closed;
  }

  private route(method: string, url: string, body: unknown, res: ServerResponse): void {
    const lease = () => ({ ttl: 30, expiresAt: new Date(Date.now() + 30_000).toISOString() });
    const notFound = (id: string) => send(res, 404, { success: false, error: { code: 'NOT_FOUND', message: `No agent ${id}` } });
    const path = url.split('?')[0]!;
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v1/agents') {
      const r = body as AgentRegistration;
      const now = new Date().toISOString();
      const agent: AgentRecord = {
        id: r.id,
        name: r.name,
        endpoint: r.endpoint,
        capabilities: r.capabilities,
        services: r.services ?? [],
        metadata: r.metadata ?? {},
        ttl: r.ttl ?? 30,
        registeredAt: now,
        lastHeartbeat: now,
        expiresAt: lease().expiresAt,
        reputation: 0,
        availability: 1,
      };
      this.agents.set(r.id, agent);
      this.registrations++;
      return send(res, 201, { success: true, agent, lease: lease() });
    }
    if (method === 'POST' && (m = /^\/v1\/agents\/([^/]+)\/heartbeat$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      this.heartbeats++;
      if (!this.agents.has(id)) return notFound(id);
      return send(res, 200, { success: true, lease: lease() });
    }
    if ((m = /^\/v1\/agents\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      const agent = this.agents.get(id);
      if (method === 'DELETE') {
        this.deregistrations++;
        this.agents.delete(id);
        return send(res, 200, { success: true });
      }
      if (method === 'GET') return agent ? send(res, 200, { success: true, agent }) : notFound(id);
    }
    if (method === 'GET' && path === '/v1/agents') {
      const agents = [...this.agents.values()];
      return send(res, 200, { success: true, agents, total: agents.length, nextCursor: null });
    }
    send(res, 404, { success: false, error: { code: 'ROUTE_NOT_FOUND', message: `No route ${method} ${path}` } });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
