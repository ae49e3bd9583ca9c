/**
 * A registry process for the PostgreSQL benchmark, printing its port on
 * stdout and running until killed:
 * - `search <postgres|embedded> <schema> <dir> <searchCacheMs>`: 100k agents
 *   in the store (put() one by one, 64 at a time; a schema that has them
 *   already is used as it is), the registry's answer cache as given (0: every
 *   query reaches the store);
 * - `replica <postgres|embedded> <schema> <dir>`: an empty signed registry.
 */
import pg from 'pg';
import { createLogger } from '@sov/core';
import { RequestVerifier } from '@sov/crypto';
import { EmbeddedRegistryStore, RegistryServer, type RegistryStore, type StoredAgent } from '@sov/registry';
import { PostgresRegistryStore } from '@sov/registry-postgres';
import { storedAgent } from '@sov/testing';

import { AGENTS, CAPABILITIES, DATABASE_URL } from './benchConfig';

function agent(i: number, now: number): StoredAgent {
  return storedAgent(`did:key:z6MkPgBench${String(i).padStart(7, '0')}`, {
    capabilities: [...new Set([`cap-${i % CAPABILITIES}`, `cap-${(i * 7) % CAPABILITIES}`, `cap-${(i * 13) % CAPABILITIES}`])],
    services: [{ name: 'work', price: i % 10 }],
    ttl: 3600,
    expiresAt: new Date(now + 3_600_000).toISOString(),
    expiresAtMs: now + 3_600_000,
    // Spread over [0, 1) independently of the capabilities (i % 100 would tie a capability to a few reputations).
    reputation: (Math.imul(i, 2654435761) >>> 0) % 100 / 100,
  });
}

async function main(): Promise<void> {
  const [mode, kind, schema, dir, cacheMs] = process.argv.slice(2);
  const logger = createLogger({ silent: true });
  const store: RegistryStore =
    kind === 'postgres' ? new PostgresRegistryStore({ connectionString: DATABASE_URL, schema: schema!, logger, poolSize: 16 }) : new EmbeddedRegistryStore({ dir: dir!, logger });
  await store.open();
  if (mode === 'search' && (await store.count()) < AGENTS) {
    const now = Date.now();
    for (let i = 0; i < AGENTS; i += 64) await Promise.all(Array.from({ length: Math.min(64, AGENTS - i) }, (_, k) => store.put(agent(i + k, now))));
    if (kind === 'postgres') {
      // What autovacuum does to a registry that has run a while: planner statistics for the new rows.
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      await admin.query(`VACUUM ANALYZE "${schema}".agents, "${schema}".agent_records`);
      await admin.end();
    }
  }
  const server = await RegistryServer.start({
    store,
    logger,
    rateLimit: false,
    searchCacheMs: Number(cacheMs ?? 0),
    sweepIntervalMs: 60_000,
    ...(mode === 'search' ? { insecure: true } : { verifier: new RequestVerifier() }),
  });
  console.log(new URL(server.url).port);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
