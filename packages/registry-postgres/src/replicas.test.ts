import { HttpRegistryClient, createLogger } from '@sov/core';
import { Identity, RequestVerifier, verifyReceipt } from '@sov/crypto';
import { RegistryServer } from '@sov/registry';
import { PostgresRegistryStore } from './postgresRegistryStore';
import { EventStream } from './__tests__/eventStream';
import { DATABASE_URL, TestSchemas } from './__tests__/testSchema';

const logger = createLogger({ silent: true });
const schemas = new TestSchemas();
const OPERATOR = 'operator-secret';

/** Three registry replicas, each with its own pool, on one schema: the scaled deployment in one process. */
let replicas: RegistryServer[] = [];
let schema: string;

async function replica(options: { searchCacheMs?: number } = {}): Promise<RegistryServer> {
  const store = new PostgresRegistryStore({ connectionString: DATABASE_URL, schema, logger, poolSize: 6, pollIntervalMs: 250, healthIntervalMs: 200 });
  return RegistryServer.start({
    store,
    logger,
    verifier: new RequestVerifier(),
    receiptVerifier: verifyReceipt,
    operatorToken: OPERATOR,
    rateLimit: false,
    sweepIntervalMs: 100,
    ...options,
  });
}

async function operator(url: string, path: string, amount: number): Promise<{ status: number; body: { stake?: { stake: number }; error?: { code: string } } }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR}` },
    body: JSON.stringify({ amount }),
  });
  return { status: res.status, body: (await res.json()) as { stake?: { stake: number }; error?: { code: string } } };
}

const registration = (id: string, capability: string, ttl = 60) => ({ id, name: `agent ${id.slice(-6)}`, endpoint: 'http://127.0.0.1:9/x', capabilities: [capability], ttl });

beforeAll(async () => {
  schema = schemas.fresh();
  // The first replica migrates; the others find the schema ready.
  replicas = [await replica(), await replica({ searchCacheMs: 60_000 }), await replica()];
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.close()));
  await schemas.dropAll();
});

describe('three registry replicas on one PostgreSQL', () => {
  it('registers on A, finds it by search on B (whose cached answer is dropped by the change), streams the event on C', async () => {
    const [a, b, c] = replicas as [RegistryServer, RegistryServer, RegistryServer];
    const stream = await EventStream.open(c.url);
    await stream.until((es) => es.some((e) => e.type === 'stream_position'));
    // B caches this (empty) answer for a minute unless a change reaches it.
    const search = () => new HttpRegistryClient({ baseUrl: b.url }).search({ capabilities: ['replica.find'] });
    expect((await search()).total).toBe(0);

    const alice = Identity.generate();
    await new HttpRegistryClient({ baseUrl: a.url, signer: alice.signer }).register(registration(alice.id, 'replica.find'));
    const registeredAt = Date.now();
    await stream.until((es) => es.some((e) => e.type === 'peer_joined' && e.data.peer_id === alice.id));
    let page = await search();
    while (page.total === 0 && Date.now() - registeredAt < 2000) page = await search();
    expect(page.agents.map((x) => x.id)).toEqual([alice.id]);
    // The documented bound: the change's event reaching B (LISTEN/NOTIFY, else the poll of pollIntervalMs), not B's cache lifetime.
    expect(Date.now() - registeredAt).toBeLessThan(2000);
    expect((await new HttpRegistryClient({ baseUrl: c.url }).get(alice.id)).id).toBe(alice.id);
    stream.close();
  });

  it('a subscriber moved from one replica to another mid-stream with Last-Event-ID loses nothing and gets nothing twice', async () => {
    const [a, b, c] = replicas as [RegistryServer, RegistryServer, RegistryServer];
    const first = await EventStream.open(a.url);
    await first.until((es) => es.some((e) => e.type === 'stream_position'));
    const start = Number(first.events[0]!.id);
    const ids = Array.from({ length: 30 }, () => Identity.generate());
    // Writers on every replica at once, while the subscriber moves.
    const writing = Promise.all(
      ids.map(async (who, i) => {
        const on = replicas[i % 3]!;
        await new HttpRegistryClient({ baseUrl: on.url, signer: who.signer }).register(registration(who.id, 'replica.move'));
      }),
    );
    await first.until((es) => es.filter((e) => e.type === 'peer_joined').length >= 5);
    first.close();
    const seen = first.events.filter((e) => e.type !== 'stream_position');
    const second = await EventStream.open(b.url, seen[seen.length - 1]!.id);
    await writing;
    const total = ids.length;
    await second.until((es) => seen.length + es.length >= total);
    const all = [...seen, ...second.events];
    const numbers = all.map((e) => Number(e.id));
    // Every event from the subscription on, in id order, once each: what C's store holds for that range.
    const log = (await c.store.eventsAfter(String(start))).events.slice(0, all.length);
    expect(numbers).toEqual(log.map((e) => Number(e.id)));
    expect(numbers).toEqual(Array.from({ length: all.length }, (_, i) => start + 1 + i));
    expect(new Set(all.filter((e) => e.type === 'peer_joined').map((e) => e.data.peer_id))).toEqual(new Set(ids.map((x) => x.id)));
    second.close();
  });

  it('concurrent stake credits from all replicas sum exactly, and concurrent debits never take a stake below zero', async () => {
    const amounts = Array.from({ length: 60 }, (_, i) => 1 + ((i * 7919) % 1000));
    const results = await Promise.all(amounts.map((amount, i) => operator(replicas[i % 3]!.url, '/v1/stakes/pooled/credit', amount)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const sum = amounts.reduce((x, y) => x + y, 0);
    for (const r of replicas) expect(await new HttpRegistryClient({ baseUrl: r.url }).getStake('pooled')).toEqual({ agentId: 'pooled', stake: sum });
    // The stakes each credit answered are all different: no two saw the same balance.
    expect(new Set(results.map((r) => r.body.stake!.stake)).size).toBe(amounts.length);

    await operator(replicas[0]!.url, '/v1/stakes/scarce/credit', 100);
    const debits = await Promise.all(replicas.flatMap((r) => [operator(r.url, '/v1/stakes/scarce/debit', 30), operator(r.url, '/v1/stakes/scarce/debit', 30)]));
    expect(debits.filter((d) => d.status === 200)).toHaveLength(3);
    expect(debits.filter((d) => d.status === 402).map((d) => d.body.error!.code)).toEqual(['INSUFFICIENT_STAKE', 'INSUFFICIENT_STAKE', 'INSUFFICIENT_STAKE']);
    expect(await replicas[2]!.store.getStake('scarce')).toBe(10);
  });

  it('gives exactly one peer_left per expired lease, though every replica sweeps', async () => {
    const stream = await EventStream.open(replicas[1]!.url);
    await stream.until((es) => es.some((e) => e.type === 'stream_position'));
    const short = Array.from({ length: 24 }, () => Identity.generate());
    await Promise.all(short.map((who, i) => new HttpRegistryClient({ baseUrl: replicas[i % 3]!.url, signer: who.signer }).register(registration(who.id, 'replica.expire', 1))));
    const ids = new Set(short.map((x) => x.id));
    const left = () => stream.events.filter((e) => e.type === 'peer_left' && ids.has(e.data.peer_id!));
    await stream.until(() => left().length >= short.length, 8000);
    // Time for a duplicate from a slower sweeper to show up, if one could.
    await new Promise((r) => setTimeout(r, 500));
    expect(left()).toHaveLength(short.length);
    expect(new Set(left().map((e) => e.data.peer_id)).size).toBe(short.length);
    expect(left().every((e) => e.data.reason === 'expired')).toBe(true);
    const log = (await replicas[0]!.store.eventsAfter('0')).events.filter((e) => e.type === 'peer_left' && ids.has(e.data.peer_id));
    expect(log).toHaveLength(short.length);
    stream.close();
  });

  it('streams every replica\'s events in id order by polling alone when notifications are off (listen: false)', async () => {
    const polled = new PostgresRegistryStore({ connectionString: DATABASE_URL, schema, logger, poolSize: 2, pollIntervalMs: 150, listen: false });
    const quiet = await RegistryServer.start({ store: polled, logger, insecure: true, rateLimit: false });
    try {
      const stream = await EventStream.open(quiet.url);
      await stream.until((es) => es.some((e) => e.type === 'stream_position'));
      const start = Number(stream.events[0]!.id);
      await Promise.all(Array.from({ length: 12 }, (_, i) => operator(replicas[i % 3]!.url, '/v1/stakes/polled/credit', 1)));
      await stream.until((es) => es.filter((e) => e.type === 'stake_changed' && e.data.peer_id === 'polled').length === 12, 3000);
      const ids = stream.events.slice(1).map((e) => Number(e.id));
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => start + 1 + i));
      stream.close();
    } finally {
      await quiet.close();
    }
  });

  it('loses no rating when raters go through different replicas at once (the cross-replica agent lock)', async () => {
    const callee = Identity.generate();
    await new HttpRegistryClient({ baseUrl: replicas[0]!.url, signer: callee.signer }).register(registration(callee.id, 'replica.rated'));
    const raters = Array.from({ length: 18 }, () => Identity.generate());
    const at = new Date().toISOString();
    // Heartbeats of the callee race the ratings; each rating reads the standing, changes it and writes it back.
    await Promise.all([
      ...raters.map((rater, i) => {
        const receipt = { id: `rcpt-${i}-${rater.id.slice(-8)}`, caller: rater.id, callee: callee.id, service: 's', at };
        return new HttpRegistryClient({ baseUrl: replicas[i % 3]!.url, signer: rater.signer }).submitFeedback({
          receipt: { ...receipt, signature: callee.signReceipt(receipt) },
          rating: 1,
        });
      }),
      ...replicas.map((r) => new HttpRegistryClient({ baseUrl: r.url, signer: callee.signer }).heartbeat(callee.id)),
    ]);
    const standing = await replicas[1]!.store.getStanding(callee.id);
    expect(standing?.ratings).toBe(raters.length);
    expect(new Set(standing?.raters.map((r) => r.id))).toEqual(new Set(raters.map((r) => r.id)));
    // Prior 0.5 worth 4 raters, 18 raters at 1: (2 + 18) / 22.
    expect(standing?.reputation).toBeCloseTo(20 / 22, 6);
    expect((await new HttpRegistryClient({ baseUrl: replicas[2]!.url }).get(callee.id)).reputation).toBeCloseTo(20 / 22, 6);
  });
});
