import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { signPeerList, type Identity } from '@sov/crypto';

/**
 * A peer registry that peers properly (its own valid key, a signed list
 * naming its peers) and then tries to hurt the registries that mirror it: a
 * snapshot with malformed records first and more valid ones than a mirror
 * keeps, a cursor that never ends, and a flood of events about agents that
 * do not exist (with no record in them, as an older registry sends them).
 */
export async function hostileRegistry(port: number, identity: Identity, peers: Array<{ id: string; url: string }>, options: { flood?: number } = {}) {
  const flood = options.flood ?? 2000;
  const url = `http://127.0.0.1:${port}`;
  const now = new Date().toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const record = (id: string) => ({
    id,
    name: id,
    endpoint: `http://127.0.0.1:9/${id}`,
    capabilities: ['quote'],
    services: [{ name: 'quote', price: 1 }],
    metadata: {},
    ttl: 3600,
    registeredAt: now,
    lastHeartbeat: now,
    expiresAt: later,
    reputation: 0.9,
    availability: 1,
  });
  const malformed = [
    { ...record('bad-endpoint'), endpoint: 'ftp://elsewhere' },
    { ...record('bad-price'), services: [{ name: 'quote', price: -5 }] },
    { ...record('bad-reputation'), reputation: 7 },
    { ...record('no-capabilities'), capabilities: undefined },
    { ...record('huge-metadata'), metadata: { blob: 'x'.repeat(40_000) } },
    'not even an object',
  ];
  const page = [...malformed, ...Array.from({ length: 30 }, (_, i) => record(`hostile-${i}`))];
  let eventsSent = 0;
  let recordReads = 0;
  const streams = new Set<ServerResponse>();
  const list = () => signPeerList({ registry: identity.id, url, peers, issuedAt: new Date().toISOString() }, (d) => identity.sign(d));
  const send = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'POST' && path === '/v1/federation/rpc') return send(res, 200, { success: true, result: { list: list() } });
      if (path === '/v1/federation/peers') return send(res, 200, { success: true, list: list() });
      // Every page the same, and always "more": only the mirror's own bound ends the snapshot.
      if (path === '/v1/agents') return send(res, 200, { success: true, agents: page, total: 1_000_000, nextCursor: 'again' });
      if (path?.startsWith('/v1/agents/')) recordReads++;
      if (path?.startsWith('/v1/agents/')) return send(res, 200, { success: true, agent: record(decodeURIComponent(path.slice('/v1/agents/'.length))) });
      if (path === '/v1/events') {
        streams.add(res);
        res.on('close', () => streams.delete(res));
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let burst = 0; burst < Math.ceil(flood / 100); burst++) {
          let chunk = '';
          for (let i = 0; i < Math.min(100, flood - burst * 100); i++) {
            eventsSent++;
            chunk += `id: ${eventsSent}\nevent: peer_joined\ndata: ${JSON.stringify({ at: now, data: { peer_id: randomBytes(12).toString('hex') } })}\n\n`;
          }
          res.write(chunk);
        }
        return;
      }
      send(res, 404, { success: false, error: { code: 'ROUTE_NOT_FOUND', message: `No route ${req.method} ${path}` } });
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url,
    malformedIds: ['bad-endpoint', 'bad-price', 'bad-reputation', 'no-capabilities', 'huge-metadata'],
    eventsSent: () => eventsSent,
    recordReads: () => recordReads,
    close: async () => {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
