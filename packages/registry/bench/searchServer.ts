/**
 * A server process for the search benchmark: `registry` (100k agents in a
 * MemoryRegistryStore) or `static` (a fastify route answering a fixed body of
 * the given size). Prints its port on stdout; runs until killed.
 */
import Fastify from 'fastify';
import { createLogger } from '@sov/core';
import { MemoryRegistryStore, RegistryServer } from '@sov/registry';

export const AGENTS = 100_000;
export const CAPS = 50;

async function registry(searchCacheMs: number): Promise<void> {
  const store = new MemoryRegistryStore();
  const now = Date.now();
  for (let i = 0; i < AGENTS; i++) {
    await store.put({
      id: `did:key:z6Mkbench${String(i).padStart(7, '0')}`,
      name: `agent-${i}`,
      endpoint: `http://10.0.${(i >> 8) & 255}.${i & 255}:8080`,
      capabilities: [`cap-${i % CAPS}`, `cap-${(i * 7) % CAPS}`, `cap-${(i * 13) % CAPS}`].filter((c, j, a) => a.indexOf(c) === j),
      services: [{ name: 'work', price: i % 10 }],
      metadata: {},
      ttl: 3600,
      registeredAt: new Date(now).toISOString(),
      lastHeartbeat: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      reputation: (i % 100) / 100,
      expiresAtMs: now + 3_600_000,
      firstSeenMs: now,
      lastBeatMs: now,
      liveMs: 0,
    });
  }
  const server = await RegistryServer.start({ insecure: true, logger: createLogger({ silent: true }), store, rateLimit: false, searchCacheMs });
  console.log(new URL(server.url).port);
}

async function staticRoute(size: number): Promise<void> {
  const body = JSON.stringify({ success: true, data: 'x'.repeat(Math.max(0, size - 30)) });
  const app = Fastify({ logger: false });
  app.get('/static', (_req, reply) => reply.type('application/json').send(body));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  console.log(typeof address === 'object' && address ? address.port : 0);
}

if (process.argv[2] === 'registry') void registry(Number(process.argv[3] ?? 1000));
else if (process.argv[2] === 'static') void staticRoute(Number(process.argv[3]));
