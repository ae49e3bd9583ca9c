import type { PoolClient } from 'pg';
import { SovError } from '@sov/core';

/** One step of the schema; `sql` receives the quoted schema name. Never edit a released step: add one. */
export interface Migration {
  version: number;
  description: string;
  sql: (schema: string) => string;
}

/**
 * The schema, step by step. Version 1:
 * - agents: the columns search filters and orders on, narrow so that a count
 *   or an index walk reads few pages; a GIN index on the capabilities array
 *   serves "has every one of these" (`@>`; fastupdate off, so no pending list
 *   for every search to read through), a btree on (reputation DESC, id)
 *   the order, a btree on expires_at_ms the sweep. agent_records: each stored
 *   record (json, kept verbatim) by id, written and removed with its row in
 *   agents by the same statement.
 * - stakes: a CHECK keeps every stake in [0, MAX_AMOUNT] whatever the
 *   concurrency; receipts: the primary key uses each receipt once.
 * - events: ids handed out by one counter row (event_log), so they are dense
 *   and commit in id order (a reader that has seen id n has seen every id below n).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'agents, stakes, receipts, standings, event log',
    sql: (s) => `
      CREATE TABLE ${s}.agents (
        id text COLLATE "C" PRIMARY KEY,
        capabilities text[] NOT NULL,
        reputation double precision NOT NULL,
        min_price double precision NOT NULL,
        expires_at_ms bigint NOT NULL
      );
      CREATE INDEX agents_capabilities ON ${s}.agents USING GIN (capabilities) WITH (fastupdate = off);
      CREATE INDEX agents_rank ON ${s}.agents (reputation DESC, id);
      CREATE INDEX agents_expiry ON ${s}.agents (expires_at_ms);
      CREATE TABLE ${s}.agent_records (id text COLLATE "C" PRIMARY KEY, record json NOT NULL);
      CREATE TABLE ${s}.stakes (
        agent_id text PRIMARY KEY,
        stake bigint NOT NULL CONSTRAINT stake_in_range CHECK (stake >= 0 AND stake <= 9007199254740991)
      );
      CREATE TABLE ${s}.receipts (id text PRIMARY KEY, used_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE ${s}.standings (agent_id text PRIMARY KEY, standing json NOT NULL);
      CREATE TABLE ${s}.events (id bigint PRIMARY KEY, type text NOT NULL, at text NOT NULL, data json NOT NULL);
      CREATE TABLE ${s}.event_log (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        last_id bigint NOT NULL DEFAULT 0,
        pruned_through bigint NOT NULL DEFAULT 0
      );
      INSERT INTO ${s}.event_log DEFAULT VALUES;
    `,
  },
];

/** The newest schema version this code knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the schema up to LATEST_VERSION under an advisory lock, so replicas
 * starting at once migrate once: the first applies the steps, the others wait
 * and find nothing left to do. Each step runs in its own transaction with its
 * row in schema_version. Refuses (INVALID_CONFIG) a database newer than the code.
 * Resolves to the versions applied.
 */
export async function migrate(client: PoolClient, schema: string, quoted: string, lockKey: number): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1, 0)', [lockKey]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoted}.schema_version`);
    const current = rows[0]?.v ?? 0;
    if (current > LATEST_VERSION) {
      throw new SovError(
        'INVALID_CONFIG',
        `The registry schema "${schema}" is at version ${current}, newer than this @sov/registry-postgres knows (${LATEST_VERSION}): upgrade @sov/registry-postgres on every replica, or point it at another schema`,
        { details: { schema, databaseVersion: current, codeVersion: LATEST_VERSION } },
      );
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql(quoted));
        await client.query(`INSERT INTO ${quoted}.schema_version (version, description) VALUES ($1, $2)`, [m.version, m.description]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, 0)', [lockKey]).catch(() => undefined);
  }
}
