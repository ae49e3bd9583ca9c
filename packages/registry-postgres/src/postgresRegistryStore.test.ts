import { createLogger } from '@sov/core';
import { RegistryServer } from '@sov/registry';
import { storedAgent, waitFor } from '@sov/testing';
import { PostgresRegistryStore, type PostgresRegistryStoreOptions } from './postgresRegistryStore';
import { searchStatements } from './internal/searchSql';
import { EventStream } from './__tests__/eventStream';
import { TcpProxy } from './__tests__/tcpProxy';
import { DATABASE_URL, TestSchemas } from './__tests__/testSchema';

const logger = createLogger({ silent: true });
const schemas = new TestSchemas();
const open: PostgresRegistryStore[] = [];

function store(options: Partial<PostgresRegistryStoreOptions> & { schema: string }): PostgresRegistryStore {
  const s = new PostgresRegistryStore({ connectionString: DATABASE_URL, logger, poolSize: 4, healthIntervalMs: 100, pollIntervalMs: 200, ...options });
  open.push(s);
  return s;
}

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as { success: boolean; error?: { code: string; message: string }; stake?: { stake: number } } };
}

beforeAll(async () => {
  await schemas.client();
});
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await schemas.dropAll();
});

describe('PostgresRegistryStore migrations', () => {
  it('migrates a new schema once when replicas open it at the same time', async () => {
    const schema = schemas.fresh();
    const stores = [store({ schema }), store({ schema }), store({ schema })];
    await Promise.all(stores.map((s) => s.open()));
    const { rows } = await schemas.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`);
    expect(rows).toEqual([{ version: PostgresRegistryStore.schemaVersion }]);
    await stores[0]!.put(storedAgent('shared', { capabilities: ['x'] }));
    expect((await stores[2]!.get('shared'))?.capabilities).toEqual(['x']);
  });

  it('refuses a schema newer than the code with INVALID_CONFIG naming both versions, and changes nothing', async () => {
    const schema = schemas.fresh();
    const first = store({ schema });
    await first.open();
    await first.put(storedAgent('kept'));
    await first.close();
    await schemas.query(`INSERT INTO "${schema}".schema_version (version, description) VALUES (99, 'from the future')`);
    await expect(store({ schema }).open()).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/schema "sov_test_\w+" is at version 99, newer than this @sov\/registry-postgres knows \(1\)/),
    });
    expect((await schemas.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`)).rows).toEqual([{ version: 1 }, { version: 99 }]);
    expect((await schemas.query(`SELECT id FROM "${schema}".agents`)).rows).toEqual([{ id: 'kept' }]);
  });

  it.each([
    ['a schema name that is no plain identifier', { connectionString: DATABASE_URL, schema: 'x"; DROP TABLE y; --' }, /schema must be a lower-case SQL identifier/],
    ['an empty connection string', { connectionString: '' }, /needs a connectionString/],
    ['a pool of no connections', { connectionString: DATABASE_URL, poolSize: 0 }, /poolSize must be a whole number of at least 1; got 0/],
    ['a fractional poll interval', { connectionString: DATABASE_URL, pollIntervalMs: 0.5 }, /pollIntervalMs must be a whole number of at least 1; got 0.5/],
    ['a negative event retention', { connectionString: DATABASE_URL, eventRetention: -1 }, /eventRetention must be a whole number/],
    ['a timeout that is not a number', { connectionString: DATABASE_URL, statementTimeoutMs: Number.NaN }, /statementTimeoutMs must be a whole number of at least 1; got NaN/],
  ])('refuses %s with INVALID_CONFIG', (_what, options, message) => {
    expect(() => new PostgresRegistryStore(options)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(message) }));
  });

  it('fails open() with UNAVAILABLE when no database answers, and opens when it does', async () => {
    const proxy = await TcpProxy.start(5432);
    proxy.cut();
    const s = store({ schema: schemas.fresh(), connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`, connectTimeoutMs: 1000 });
    await expect(s.open()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/opening schema "sov_test_\w+" failed, the database is unreachable/) });
    expect(s.health().ok).toBe(false);
    // Once the database answers, the same store opens.
    proxy.restore();
    await s.open();
    expect(s.health().ok).toBe(true);
    await s.adjustStake('after-retry', 3);
    expect(await s.getStake('after-retry')).toBe(3);
    await s.close();
    await proxy.close();
  });
});

describe('PostgresRegistryStore tables', () => {
  let schema: string;
  let s: PostgresRegistryStore;
  beforeAll(async () => {
    schema = schemas.fresh();
    s = store({ schema });
    await s.open();
  });

  it('serves search from indexes, not a scan (EXPLAIN): GIN on capabilities, the rank btree for the order', async () => {
    // 20,000 agents, 2,000 capabilities of 10 agents each and one they all have, written the way put() writes them.
    await schemas.query(
      `INSERT INTO "${schema}".agents (id, capabilities, reputation, min_price, expires_at_ms)
       SELECT 'x' || i, ARRAY['cap-' || (i % 2000), 'all'], (i % 997) / 997.0, 0, 9e15 FROM generate_series(1, 20000) i`,
    );
    await schemas.query(`INSERT INTO "${schema}".agent_records (id, record) SELECT id, json_build_object('id', id) FROM "${schema}".agents`);
    await schemas.query(`ANALYZE "${schema}".agents`);
    await schemas.query(`ANALYZE "${schema}".agent_records`);
    const plan = async (query: Parameters<typeof searchStatements>[1]) => {
      const { page, count } = searchStatements(`"${schema}"`, query, Date.now());
      const text = async (sql: { text: string; values: unknown[] }) =>
        JSON.stringify((await schemas.query(`EXPLAIN (FORMAT JSON) ${sql.text}`, sql.values)).rows[0]);
      return { page: await text(page), count: await text(count) };
    };
    const byCapability = await plan({ capabilities: ['cap-7'], minReputation: 0.2, limit: 20 });
    expect(byCapability.page).toContain('agents_capabilities');
    expect(byCapability.count).toContain('agents_capabilities');
    const both = await plan({ capabilities: ['cap-7', 'all'], limit: 20 });
    expect(both.page).toContain('agents_capabilities');
    const ranked = await plan({ limit: 20 });
    expect(ranked.page).toContain('agents_rank');
    // A capability every agent has: walking the rank index and filtering is cheaper than the GIN bitmap, and still no scan.
    const common = await plan({ capabilities: ['all'], limit: 20 });
    expect(common.page).toContain('agents_rank');
    for (const p of [byCapability.page, byCapability.count, both.page, ranked.page, common.page]) expect(p).not.toContain('Seq Scan');
    const found = await s.search({ capabilities: ['cap-7'], limit: 5 }, Date.now());
    expect(found.total).toBe(10);
    await schemas.query(`DELETE FROM "${schema}".agents WHERE id LIKE 'x%'`);
    await schemas.query(`DELETE FROM "${schema}".agent_records WHERE id LIKE 'x%'`);
  });

  it('lets the database itself refuse a stake below zero or past MAX_AMOUNT and a receipt used twice', async () => {
    await s.adjustStake('db-rules', 5);
    await s.useReceipt('db-once');
    await expect(schemas.query(`UPDATE "${schema}".stakes SET stake = -1 WHERE agent_id = 'db-rules'`)).rejects.toMatchObject({ code: '23514' });
    await expect(schemas.query(`UPDATE "${schema}".stakes SET stake = 9007199254740992 WHERE agent_id = 'db-rules'`)).rejects.toMatchObject({ code: '23514' });
    await expect(schemas.query(`INSERT INTO "${schema}".receipts (id) VALUES ('db-once')`)).rejects.toMatchObject({ code: '23505' });
    expect(await s.getStake('db-rules')).toBe(5);
    await expect(s.adjustStake('nobody', -1)).rejects.toMatchObject({ code: 'INSUFFICIENT_STAKE', message: 'Cannot debit 1 from nobody: its stake is 0' });
  });

  it('refuses text PostgreSQL cannot keep (U+0000) with INVALID_INPUT, changing nothing, through the registry too', async () => {
    const before = await s.count();
    await expect(s.put(storedAgent('nul', { capabilities: ['a\u0000b'] }))).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('U+0000') });
    expect(await s.count()).toBe(before);
    const registry = await RegistryServer.start({ store: s, insecure: true, logger, rateLimit: false });
    try {
      const res = await call('POST', `${registry.url}/v1/agents`, { id: 'nul', name: 'nul', endpoint: 'http://127.0.0.1:1/', capabilities: ['a\u0000b'] });
      expect(res.status).toBe(400);
      expect(res.body.error?.code).toBe('INVALID_INPUT');
      expect(await s.get('nul')).toBeUndefined();
      expect((await call('GET', `${registry.url}/health`)).status).toBe(200);
    } finally {
      // The registry closes the store it was given; the next tests open their own.
      await registry.close();
    }
  });

  it('prunes events past the retention window and says so on replay', async () => {
    const small = store({ schema: schemas.fresh(), eventRetention: 10 });
    await small.open();
    const at = new Date().toISOString();
    for (let i = 0; i < 300; i++) await small.appendEvent({ type: 'peer_joined', at, data: { peer_id: `e${i}` } });
    await waitFor('pruning', async () => (await small.eventsAfter('0')).truncated);
    const replay = await small.eventsAfter('0');
    expect(replay.events.length).toBeLessThan(300);
    expect(replay.events.at(-1)?.id).toBe('300');
    expect((await small.eventsAfter('299')).truncated).toBe(false);
  });
});

describe('PostgresRegistryStore writes and their events', () => {
  it('commits a change to an agent together with its event: when the event cannot be appended, the change is not made either', async () => {
    const schema = schemas.fresh();
    const s = store({ schema });
    const registry = await RegistryServer.start({ store: s, insecure: true, logger, rateLimit: false });
    try {
      // The database refuses this one event type, as it would refuse any append it cannot make.
      await schemas.query(`ALTER TABLE "${schema}".events ADD CONSTRAINT no_joins CHECK (type <> 'peer_joined')`);
      const res = await call('POST', `${registry.url}/v1/agents`, { id: 'atomic', name: 'atomic', endpoint: 'http://127.0.0.1:1/', capabilities: ['x'] });
      expect(res.status).toBe(500);
      expect(await s.get('atomic')).toBeUndefined();
      expect((await s.eventsAfter('0')).events).toEqual([]);
      await schemas.query(`ALTER TABLE "${schema}".events DROP CONSTRAINT no_joins`);
      expect((await call('POST', `${registry.url}/v1/agents`, { id: 'atomic', name: 'atomic', endpoint: 'http://127.0.0.1:1/', capabilities: ['x'] })).status).toBe(201);
      // Deregistering: the record goes only if its peer_left is written.
      await schemas.query(`ALTER TABLE "${schema}".events ADD CONSTRAINT no_leaves CHECK (type <> 'peer_left')`);
      expect((await call('DELETE', `${registry.url}/v1/agents/atomic`)).status).toBe(500);
      expect(await s.get('atomic')).toBeDefined();
      expect((await s.eventsAfter('0')).events.map((e) => e.type)).toEqual(['peer_joined']);
    } finally {
      await registry.close();
    }
  });
});

describe('PostgresRegistryStore availability', () => {
  it('/ready is false while the database is unreachable and true again when it is back; writes meanwhile get 503', async () => {
    const proxy = await TcpProxy.start(5432);
    const s = store({ schema: schemas.fresh(), connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`, connectTimeoutMs: 500 });
    const registry = await RegistryServer.start({ store: s, insecure: true, logger, rateLimit: false, operatorToken: 'op' });
    try {
      expect((await call('GET', `${registry.url}/ready`)).status).toBe(200);
      proxy.cut();
      await waitFor('not ready', async () => (await call('GET', `${registry.url}/ready`)).status === 503);
      const ready = await call('GET', `${registry.url}/ready`);
      expect(ready.body.error).toMatchObject({ code: 'NOT_READY', message: expect.stringContaining('PostgreSQL unreachable') });
      const write = await call('POST', `${registry.url}/v1/stakes/w/credit`, { amount: 5 }, { authorization: 'Bearer op' });
      expect(write.status).toBe(503);
      expect(['STATE_WRITE_FAILED', 'UNAVAILABLE']).toContain(write.body.error?.code);
      expect((await call('GET', `${registry.url}/health`)).status).toBe(200);
      proxy.restore();
      await waitFor('ready again', async () => (await call('GET', `${registry.url}/ready`)).status === 200);
      const after = await call('POST', `${registry.url}/v1/stakes/w/credit`, { amount: 5 }, { authorization: 'Bearer op' });
      expect(after.body.stake?.stake).toBe(5);
    } finally {
      await registry.close();
      await proxy.close();
    }
  });

  it('loses no acknowledged write when the database drops every connection (pg_terminate_backend), and streams events again after', async () => {
    const schema = schemas.fresh();
    const applicationName = `sov-test-${schema}`;
    const s = store({ schema, applicationName, connectTimeoutMs: 1000 });
    const registry = await RegistryServer.start({ store: s, insecure: true, logger, rateLimit: false, operatorToken: 'op' });
    const stream = await EventStream.open(registry.url);
    try {
      await stream.until((es) => es.some((e) => e.type === 'stream_position'));
      const acked: number[] = [];
      const failed: Array<{ status: number; code: string | undefined }> = [];
      const registered: string[] = [];
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop && i < 400; i++) {
          const amount = 1 + ((w * 31 + i) % 9);
          const res = await call('POST', `${registry.url}/v1/stakes/kept/credit`, { amount }, { authorization: 'Bearer op' });
          if (res.status === 200) acked.push(amount);
          else failed.push({ status: res.status, code: res.body.error?.code });
          const id = `w${w}-${i}`;
          const reg = await call('POST', `${registry.url}/v1/agents`, { id, name: id, endpoint: 'http://127.0.0.1:1/', capabilities: ['kept'], ttl: 600 });
          if (reg.status === 201) registered.push(id);
          else failed.push({ status: reg.status, code: reg.body.error?.code });
        }
      };
      const writers = Promise.all([0, 1, 2, 3].map(writer));
      await waitFor('some writes', async () => acked.length > 20);
      const killed = await schemas.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      expect(killed.rowCount).toBeGreaterThan(1);
      const ackedAtKill = acked.length;
      await waitFor('writes after the kill', async () => acked.length > ackedAtKill + 20);
      stop = true;
      await writers;
      // Every refusal was a retryable 503, never a 500 or a crash.
      for (const f of failed) expect(f).toMatchObject({ status: 503 });
      const sum = acked.reduce((a, b) => a + b, 0);
      const stake = await s.getStake('kept');
      // Acknowledged credits are all there; a credit whose answer was lost with its connection may be there too.
      expect(stake).toBeGreaterThanOrEqual(sum);
      expect(stake - sum).toBeLessThanOrEqual(9 * failed.length);
      for (const id of registered) expect(await s.get(id)).toBeDefined();
      // Every acknowledged registration's event reaches the stream, though the LISTEN connection was dropped too.
      await stream.until(() => {
        const joined = new Set(stream.of('peer_joined').map((e) => e.data.peer_id));
        return registered.every((id) => joined.has(id));
      }, 5000);
      expect((await call('GET', `${registry.url}/ready`)).status).toBe(200);
    } finally {
      stream.close();
      await registry.close();
    }
  });
});
