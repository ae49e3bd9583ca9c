import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type CallReceipt } from '@sov/core';
import { ManualClock, waitFor } from '@sov/core/internal';
import { EmbeddedRegistryStore } from './embeddedRegistryStore';
import { MemoryRegistryStore } from './memoryRegistryStore';
import { RegistryServer } from './registryServer';

const silent = createLogger({ silent: true });
type Json = Record<string, any>;

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text.startsWith('{') ? JSON.parse(text) : text) as Json };
}

const reg = (id: string, extra: Json = {}) => ({ id, name: id, endpoint: `http://127.0.0.1:1/${id}`, capabilities: ['c'], ...extra });

describe('registry stakes', () => {
  let registry: RegistryServer;
  beforeAll(async () => {
    registry = await RegistryServer.start({ insecure: true, logger: silent, operatorToken: 'op-secret' });
  });
  afterAll(() => registry.close());

  it('lets anyone read a stake and only the operator change it', async () => {
    expect((await call('GET', `${registry.url}/v1/stakes/alice`)).body).toEqual({ success: true, stake: { agentId: 'alice', stake: 0 } });
    const credited = await call('POST', `${registry.url}/v1/stakes/alice/credit`, { amount: 150 }, { authorization: 'Bearer op-secret' });
    expect(credited.body.stake).toEqual({ agentId: 'alice', stake: 150 });
    const debited = await call('POST', `${registry.url}/v1/stakes/alice/debit`, { amount: 50 }, { authorization: 'Bearer op-secret' });
    expect(debited.body.stake.stake).toBe(100);
  });

  it.each([
    ['no token', {}, 401, 'UNAUTHORIZED'],
    ['a wrong token', { authorization: 'Bearer guess' }, 403, 'FORBIDDEN'],
    ['a token of another length', { authorization: 'Bearer op-secret-longer' }, 403, 'FORBIDDEN'],
  ])('refuses a stake change with %s and changes nothing', async (_what, headers, status, code) => {
    const before = (await call('GET', `${registry.url}/v1/stakes/bob`)).body.stake.stake;
    const res = await call('POST', `${registry.url}/v1/stakes/bob/credit`, { amount: 10 }, headers);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect((await call('GET', `${registry.url}/v1/stakes/bob`)).body.stake.stake).toBe(before);
  });

  it.each([
    [{ amount: -5 }, 'INVALID_AMOUNT'],
    [{ amount: 0 }, 'INVALID_AMOUNT'],
    [{ amount: 0.3 }, 'INVALID_AMOUNT'],
    [{ amount: 1e16 }, 'INVALID_AMOUNT'],
    [{ amount: Number.MAX_SAFE_INTEGER + 1 }, 'INVALID_AMOUNT'],
    [{ amount: '5' }, 'INVALID_INPUT'],
    [{}, 'INVALID_INPUT'],
  ])('refuses a bad amount %j and changes nothing', async (body, code) => {
    const res = await call('POST', `${registry.url}/v1/stakes/carol/credit`, body, { authorization: 'Bearer op-secret' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect((await call('GET', `${registry.url}/v1/stakes/carol`)).body.stake.stake).toBe(0);
  });

  it('keeps stakes exact: credit 30, debit 10, debit 20 leaves exactly 0 (the float stakes left 0.19999999999999998)', async () => {
    const op = { authorization: 'Bearer op-secret' };
    await call('POST', `${registry.url}/v1/stakes/erin/credit`, { amount: 30 }, op);
    expect((await call('POST', `${registry.url}/v1/stakes/erin/debit`, { amount: 10 }, op)).body.stake.stake).toBe(20);
    const last = await call('POST', `${registry.url}/v1/stakes/erin/debit`, { amount: 20 }, op);
    expect(last.status).toBe(200);
    expect(last.body.stake.stake).toBe(0);
  });

  it('refuses a credit that would pass MAX_AMOUNT instead of acknowledging a change that changes nothing', async () => {
    const op = { authorization: 'Bearer op-secret' };
    await call('POST', `${registry.url}/v1/stakes/rich/credit`, { amount: Number.MAX_SAFE_INTEGER - 1 }, op);
    const one = await call('POST', `${registry.url}/v1/stakes/rich/credit`, { amount: 1 }, op);
    expect(one.body.stake.stake).toBe(Number.MAX_SAFE_INTEGER);
    const over = await call('POST', `${registry.url}/v1/stakes/rich/credit`, { amount: 1 }, op);
    expect(over.status).toBe(400);
    expect(over.body.error.code).toBe('INVALID_AMOUNT');
    expect((await call('GET', `${registry.url}/v1/stakes/rich`)).body.stake.stake).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['a fractional price', { services: [{ name: 's', price: 0.5 }] }, '/services/0/price'],
    ['a negative minStake', { services: [{ name: 's', minStake: -1 }] }, '/services/0/minStake'],
    ['a price past MAX_AMOUNT', { services: [{ name: 's', price: 2 ** 60 }] }, '/services/0/price'],
  ])('refuses a registration with %s naming the field', async (_what, extra, field) => {
    const res = await call('POST', `${registry.url}/v1/agents`, reg('pricey', extra));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(field);
    expect((await call('GET', `${registry.url}/v1/agents/pricey`)).status).toBe(404);
  });

  it('refuses a fractional maxPrice in search', async () => {
    const res = await call('GET', `${registry.url}/v1/agents?maxPrice=1.5`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('/maxPrice');
  });

  it('refuses to debit below zero with INSUFFICIENT_STAKE', async () => {
    await call('POST', `${registry.url}/v1/stakes/dave/credit`, { amount: 5 }, { authorization: 'Bearer op-secret' });
    const res = await call('POST', `${registry.url}/v1/stakes/dave/debit`, { amount: 6 }, { authorization: 'Bearer op-secret' });
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('INSUFFICIENT_STAKE');
    expect((await call('GET', `${registry.url}/v1/stakes/dave`)).body.stake.stake).toBe(5);
  });

  it('refuses every stake change when no operator token is configured', async () => {
    const open = await RegistryServer.start({ insecure: true, logger: silent });
    const res = await call('POST', `${open.url}/v1/stakes/x/credit`, { amount: 1 }, { authorization: 'Bearer anything' });
    expect(res.status).toBe(403);
    await open.close();
  });
});

describe('registry feedback and reputation', () => {
  let registry: RegistryServer;
  const clock = new ManualClock({ start: Date.parse('2026-03-01T00:00:00Z') });
  // A stand-in for the Ed25519 check (@sov/crypto's verifyReceipt is tested with real keys elsewhere).
  const receiptVerifier = (r: CallReceipt) => r.signature === `signed-by:${r.callee}`;
  beforeAll(async () => {
    registry = await RegistryServer.start({ insecure: true, logger: silent, clock, receiptVerifier });
    await call('POST', `${registry.url}/v1/agents`, reg('served', { ttl: 3600 }));
  });
  afterAll(() => registry.close());

  const receipt = (id: string, extra: Partial<CallReceipt> = {}): CallReceipt => ({
    id,
    caller: 'rater',
    callee: 'served',
    service: 'echo',
    at: new Date(clock.now()).toISOString(),
    signature: 'signed-by:served',
    ...extra,
  });

  it("moves reputation toward the rating, once per receipt; each rater's ratings average into one vote", async () => {
    // Prior 0.5 worth 4 raters, plus this rater's vote of 1: (2 + 1) / 5.
    const first = await call('POST', `${registry.url}/v1/feedback`, { receipt: receipt('r1'), rating: 1 });
    expect(first.body).toEqual({ success: true, agentId: 'served', reputation: 0.6 });
    const again = await call('POST', `${registry.url}/v1/feedback`, { receipt: receipt('r1'), rating: 1 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    // The same rater again: its vote is now the mean of 1 and 0.
    const low = await call('POST', `${registry.url}/v1/feedback`, { receipt: receipt('r2'), rating: 0 });
    expect(low.body.reputation).toBeCloseTo(0.5);
    expect((await call('GET', `${registry.url}/v1/agents/served`)).body.agent.reputation).toBeCloseTo(0.5);
  });

  it('bounds what one rater can do: many cheap zero ratings move a newcomer no lower than 0.4', async () => {
    await call('POST', `${registry.url}/v1/agents`, reg('target', { ttl: 3600 }));
    let reputation = 0.5;
    for (let i = 0; i < 12; i++) {
      const res = await call('POST', `${registry.url}/v1/feedback`, { receipt: receipt(`loud-${i}`, { caller: 'loud', callee: 'target', signature: 'signed-by:target' }), rating: 0 });
      reputation = res.body.reputation as number;
    }
    expect(reputation).toBe(0.4);
    // Many callers still move it: ten more raters at 0 bring it to 2 / 15.
    for (let i = 0; i < 10; i++) {
      const res = await call('POST', `${registry.url}/v1/feedback`, { receipt: receipt(`many-${i}`, { caller: `rater-${i}`, callee: 'target', signature: 'signed-by:target' }), rating: 0 });
      reputation = res.body.reputation as number;
    }
    expect(reputation).toBeCloseTo(2 / 15, 5);
  });

  it('keeps reputation across deregistration and registration (no laundering), and counts ratings while away', async () => {
    await call('POST', `${registry.url}/v1/agents`, reg('launder', { ttl: 3600 }));
    const rate = (id: string, caller: string) =>
      call('POST', `${registry.url}/v1/feedback`, { receipt: receipt(id, { caller, callee: 'launder', signature: 'signed-by:launder' }), rating: 0 });
    expect((await rate('la-1', 'r1')).body.reputation).toBe(0.4);
    // Rated once, the id is known: ratings while away are counted.
    expect((await call('DELETE', `${registry.url}/v1/agents/launder`)).status).toBe(200);
    // A rating that arrives while it is away still counts for the id.
    expect((await rate('la-2', 'r2')).body.reputation).toBeCloseTo(2 / 6, 5);
    const back = await call('POST', `${registry.url}/v1/agents`, reg('launder', { ttl: 3600 }));
    expect(back.body.agent.reputation).toBeCloseTo(2 / 6, 5);
  });

  it('refuses a receipt dated in the future past the allowed skew', async () => {
    const future = receipt('fut', { at: new Date(clock.now() + 31_000).toISOString() });
    const res = await call('POST', `${registry.url}/v1/feedback`, { receipt: future, rating: 1 });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SIGNATURE_EXPIRED');
    expect(res.body.error.message).toContain('later than');
    const near = await call('POST', `${registry.url}/v1/feedback`, { receipt: receipt('near', { at: new Date(clock.now() + 5_000).toISOString() }), rating: 1 });
    expect(near.status).toBe(200);
  });

  it.each([
    ['a receipt the callee did not sign', receipt('f1', { signature: 'forged' }), 401, 'SIGNATURE_INVALID'],
    ['a receipt for an agent the registry does not know', receipt('f2', { callee: 'ghost', signature: 'signed-by:ghost' }), 404, 'NOT_FOUND'],
    ['a receipt rating oneself', receipt('f3', { caller: 'served' }), 403, 'FORBIDDEN'],
    ['a receipt older than a day', receipt('f4', { at: new Date(Date.parse('2026-02-27T00:00:00Z')).toISOString() }), 401, 'SIGNATURE_EXPIRED'],
  ])('refuses %s and leaves reputation alone', async (_what, r, status, code) => {
    const before = (await call('GET', `${registry.url}/v1/agents/served`)).body.agent.reputation;
    const res = await call('POST', `${registry.url}/v1/feedback`, { receipt: r, rating: 1 });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect((await call('GET', `${registry.url}/v1/agents/served`)).body.agent.reputation).toBe(before);
  });

  it.each([
    [{ receipt: receipt('b1'), rating: 2 }, '/rating'],
    [{ receipt: receipt('b2') }, '/rating'],
    [{ receipt: { id: 'b3' }, rating: 1 }, '/receipt/caller'],
  ])('refuses malformed feedback (%#) naming the field', async (body, field) => {
    const res = await call('POST', `${registry.url}/v1/feedback`, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(field);
  });
});

describe('registry changes to one agent at the same time', () => {
  it.each([
    ['the memory store', () => undefined],
    ['the embedded store', (dir: string) => new EmbeddedRegistryStore({ dir })],
  ])('lose no rating and no lease renewal on %s', async (_what, makeStore) => {
    const dir = mkdtempSync(join(tmpdir(), 'sov-registry-race-'));
    const store = makeStore(dir);
    const receiptVerifier = (r: CallReceipt) => r.signature === `signed-by:${r.callee}`;
    const registry = await RegistryServer.start({ insecure: true, logger: silent, receiptVerifier, ...(store ? { store } : {}) });
    try {
      await call('POST', `${registry.url}/v1/agents`, reg('popular', { ttl: 3600 }));
      const at = new Date().toISOString();
      const ratings = Array.from({ length: 20 }, (_, i) =>
        call('POST', `${registry.url}/v1/feedback`, {
          receipt: { id: `race-${i}`, caller: `rater-${i}`, callee: 'popular', service: 'echo', at, signature: 'signed-by:popular' },
          rating: 1,
        }),
      );
      const beats = Array.from({ length: 10 }, () => call('POST', `${registry.url}/v1/agents/popular/heartbeat`, {}));
      const metadata = call('PUT', `${registry.url}/v1/agents/popular/metadata`, { metadata: { region: 'eu' } });
      const answers = await Promise.all([...ratings, ...beats, metadata]);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      // 20 raters at 1 and the prior of 0.5 worth 4: (2 + 20) / 24, whatever the order.
      const expected = 22 / 24;
      const agent = (await call('GET', `${registry.url}/v1/agents/popular`)).body.agent;
      expect(agent.reputation).toBeCloseTo(expected, 5);
      expect(agent.metadata).toEqual({ region: 'eu' });
    } finally {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('registry lease expiry against a heartbeat in progress', () => {
  it('never brings back an agent it expired: the sweep waits for the heartbeat that read the record first', async () => {
    /** A memory store whose writes wait while `hold` is set, to stretch a heartbeat between its read and its write. */
    class SlowStore extends MemoryRegistryStore {
      hold: Promise<void> | undefined;
      held = 0;
      override async put(agent: Parameters<MemoryRegistryStore['put']>[0]): Promise<void> {
        if (this.hold) {
          this.held++;
          await this.hold;
        }
        return super.put(agent);
      }
    }
    const clock = new ManualClock({ start: Date.parse('2026-03-01T00:00:00Z') });
    const store = new SlowStore();
    const registry = await RegistryServer.start({ insecure: true, logger: silent, clock, store });
    try {
      await call('POST', `${registry.url}/v1/agents`, reg('edge', { ttl: 10 }));
      const left: string[] = [];
      registry.onEvent((e) => e.type === 'peer_left' && left.push(String(e.data.peer_id)));
      clock.advance(9_999); // one millisecond of lease left
      let release!: () => void;
      store.hold = new Promise((r) => (release = r));
      const beat = call('POST', `${registry.url}/v1/agents/edge/heartbeat`, {});
      await waitFor('the heartbeat to read the live record and wait to write', () => store.held === 1);
      clock.advance(2); // the lease has now ended
      const swept = registry.sweep();
      release();
      store.hold = undefined;
      expect((await beat).status).toBe(200);
      expect(await swept).toBe(0); // the renewal came first
      expect(left).toEqual([]);
      expect((await call('GET', `${registry.url}/v1/agents/edge`)).status).toBe(200);
    } finally {
      await registry.close();
    }
  });
});

describe('registry metadata, availability, limits and metrics', () => {
  it('updates metadata, refuses oversized metadata, and computes availability from heartbeats', async () => {
    const clock = new ManualClock({ start: Date.parse('2026-03-01T00:00:00Z') });
    // No sweep within the test: the lapsed record is still there when it registers again.
    const registry = await RegistryServer.start({ insecure: true, logger: silent, clock, maxMetadataBytes: 100, sweepIntervalMs: 3_600_000 });
    await call('POST', `${registry.url}/v1/agents`, reg('m', { ttl: 10 }));
    const updated = await call('PUT', `${registry.url}/v1/agents/m/metadata`, { metadata: { x25519: 'abc' } });
    expect(updated.body.agent.metadata).toEqual({ x25519: 'abc' });
    const big = await call('PUT', `${registry.url}/v1/agents/m/metadata`, { metadata: { blob: 'x'.repeat(200) } });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toMatch(/\/metadata is \d+ bytes; the limit is 100/);
    expect((await call('GET', `${registry.url}/v1/agents/m`)).body.agent.metadata).toEqual({ x25519: 'abc' });
    // 10 s covered, then a 10 s lapse, then re-register: availability 10/20 = 0.5
    clock.advance(20_000);
    await call('POST', `${registry.url}/v1/agents`, reg('m', { ttl: 10 }));
    expect((await call('GET', `${registry.url}/v1/agents/m`)).body.agent.availability).toBeCloseTo(0.5);
    clock.advance(5_000);
    await call('POST', `${registry.url}/v1/agents/m/heartbeat`, {});
    expect((await call('GET', `${registry.url}/v1/agents/m`)).body.agent.availability).toBeCloseTo(15 / 25);
    await registry.close();
  });

  it('answers 429 with Retry-After past the per-client rate', async () => {
    const registry = await RegistryServer.start({ insecure: true, logger: silent, rateLimit: { max: 3, windowMs: 60_000 } });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call('GET', `${registry.url}/v1/agents`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.body.error.code).toBe('RATE_LIMITED');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('GET', `${registry.url}/health`)).status).toBe(200);
    await registry.close();
  });

  it('serves Prometheus metrics', async () => {
    const registry = await RegistryServer.start({ insecure: true, logger: silent });
    await call('POST', `${registry.url}/v1/agents`, reg('metrics'));
    const res = await fetch(`${registry.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/sov_registry_agents 1/);
    expect(text).toMatch(/sov_registry_http_requests_total\{method="POST",route="\/v1\/agents",status="201"\} 1/);
    expect(text).toMatch(/sov_registry_events_total\{type="peer_joined"\} 1/);
    await registry.close();
  });

  it('refuses to start without a verifier unless insecure is asked for', () => {
    expect(() => new RegistryServer({ logger: silent })).toThrow(/needs a verifier/);
  });
});

describe('registry search answers', () => {
  it('reflect every change at once and heartbeat times within a second', async () => {
    const clock = new ManualClock({ start: Date.parse('2026-03-01T00:00:00Z') });
    const registry = await RegistryServer.start({ insecure: true, logger: silent, clock, receiptVerifier: (r) => r.signature === 'ok' });
    const search = async () => (await call('GET', `${registry.url}/v1/agents?capability=c`)).body;
    await call('POST', `${registry.url}/v1/agents`, reg('s1', { ttl: 60 }));
    const first = await search();
    expect(first.total).toBe(1);
    await call('POST', `${registry.url}/v1/agents`, reg('s2', { ttl: 60 }));
    expect((await search()).total).toBe(2);
    await call('DELETE', `${registry.url}/v1/agents/s2`);
    expect((await search()).total).toBe(1);
    const receipt = { id: 'r', caller: 'x', callee: 's1', service: 's', at: new Date(clock.now()).toISOString(), signature: 'ok' };
    await call('POST', `${registry.url}/v1/feedback`, { receipt, rating: 1 });
    expect((await search()).agents[0].reputation).toBe(0.6);
    clock.advance(5000);
    await call('POST', `${registry.url}/v1/agents/s1/heartbeat`, {});
    const beat = (await search()).agents[0].lastHeartbeat;
    expect(beat).toBe(new Date(clock.now()).toISOString());
    await registry.close();
  });
});

describe('registry events over SSE', () => {
  it('streams events filtered by type and replays after Last-Event-ID', async () => {
    const registry = await RegistryServer.start({ insecure: true, logger: silent });
    await call('POST', `${registry.url}/v1/agents`, reg('e1'));
    await call('POST', `${registry.url}/v1/agents`, reg('e2'));
    await call('DELETE', `${registry.url}/v1/agents/e1`);
    const controller = new AbortController();
    const res = await fetch(`${registry.url}/v1/events?type=peer_left&type=peer_joined`, {
      headers: { 'last-event-id': '1' },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: peer_left')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).not.toContain('"peer_id":"e1","name"'); // event 1 (e1 joined) was before Last-Event-ID
    expect(text).toMatch(/id: 2\nevent: peer_joined\ndata: .*"peer_id":"e2"/);
    expect(text).toMatch(/id: 3\nevent: peer_left\ndata: .*"peer_id":"e1"/);
    await registry.close();
  });

  it.each([
    ['/v1/events?type=bogus', {}, '/type'],
    ['/v1/events', { 'last-event-id': 'abc' }, 'Last-Event-ID'],
  ])('refuses a bad subscription (%s)', async (path, headers, text) => {
    const registry = await RegistryServer.start({ insecure: true, logger: silent });
    const res = await call('GET', `${registry.url}${path}`, undefined, headers);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(text);
    await registry.close();
  });
});

describe('registry restart', () => {
  it('loses no registration, stake or event with the embedded store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sov-registry-restart-'));
    try {
      let registry = await RegistryServer.start({ insecure: true, logger: silent, operatorToken: 't', store: new EmbeddedRegistryStore({ dir }) });
      for (let i = 0; i < 20; i++) await call('POST', `${registry.url}/v1/agents`, reg(`r${i}`, { ttl: 600 }));
      await call('POST', `${registry.url}/v1/stakes/r0/credit`, { amount: 7 }, { authorization: 'Bearer t' });
      await registry.close();
      registry = await RegistryServer.start({ insecure: true, logger: silent, store: new EmbeddedRegistryStore({ dir }) });
      const page = await call('GET', `${registry.url}/v1/agents?capability=c&limit=100`);
      expect(page.body.total).toBe(20);
      expect((await call('GET', `${registry.url}/v1/stakes/r0`)).body.stake.stake).toBe(7);
      expect((await call('POST', `${registry.url}/v1/agents/r5/heartbeat`, {})).status).toBe(200);
      await call('POST', `${registry.url}/v1/agents`, reg('after'));
      const events = await registry.store.eventsAfter(undefined);
      expect(events.events.map((e) => Number(e.id))).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
      await registry.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('registry bodies nested too deeply', () => {
  it.each([
    ['metadata 5,000 levels deep', (deep: unknown) => reg('deep', { metadata: { a: deep } })],
    ['a request params 20,000 levels deep (inside the body limit)', (deep: unknown) => ({ service: 's', params: deep })],
  ])('refuses %s with a 400 naming the path, keeps nothing, and stays up', async (what, body) => {
    const dir = mkdtempSync(join(tmpdir(), 'sov-registry-deep-'));
    const registry = await RegistryServer.start({ insecure: true, logger: silent, store: new EmbeddedRegistryStore({ dir }) });
    try {
      const depth = what.startsWith('metadata') ? 5000 : 20_000;
      await call('POST', `${registry.url}/v1/agents`, reg('target'));
      const url = what.startsWith('metadata') ? `${registry.url}/v1/agents` : `${registry.url}/v1/agents/target/requests`;
      // JSON.stringify of the test's own body would overflow too: send the text directly.
      const text = JSON.stringify(body('__DEEP__')).replace('"__DEEP__"', '['.repeat(depth) + ']'.repeat(depth));
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      const answer = (await res.json()) as { success: boolean; error: { code: string; message: string } };
      expect(res.status).toBe(400);
      expect(answer.error.code).toBe('INVALID_INPUT');
      expect(answer.error.message).toContain('nested deeper than 64 levels');
      expect((await call('GET', `${registry.url}/v1/agents/deep`)).status).toBe(404);
      expect((await call('GET', `${registry.url}/health`)).status).toBe(200);
      expect((await call('GET', `${registry.url}/v1/agents?capability=c`)).body.total).toBe(1);
    } finally {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('registry event streams for a new subscriber', () => {
  async function firstEvents(url: string, headers: Record<string, string>, count: number): Promise<string[]> {
    const controller = new AbortController();
    const res = await fetch(url, { headers, signal: controller.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/\n\n/g) ?? []).length < count + 1) text += decoder.decode((await reader.read()).value, { stream: true });
    controller.abort();
    return text
      .split('\n\n')
      .filter((b) => b.includes('event: '))
      .map((b) => `${/event: (\w+)/.exec(b)![1]}#${/id: (\d+)/.exec(b)?.[1] ?? ''}`);
  }

  it('gets new events only, after a stream_position naming where it starts; Last-Event-ID: 0 replays the window', async () => {
    const registry = await RegistryServer.start({ insecure: true, logger: silent });
    try {
      await call('POST', `${registry.url}/v1/agents`, reg('old-1'));
      await call('POST', `${registry.url}/v1/agents`, reg('old-2'));
      const live = firstEvents(`${registry.url}/v1/events`, {}, 2);
      await waitFor('the stream to be subscribed', async () => /^sov_registry_event_subscribers 1$/m.test(await (await fetch(`${registry.url}/metrics`)).text()));
      await call('POST', `${registry.url}/v1/agents`, reg('new-1'));
      expect(await live).toEqual(['stream_position#2', 'peer_joined#3']);
      expect(await firstEvents(`${registry.url}/v1/events`, { 'last-event-id': '0' }, 3)).toEqual(['peer_joined#1', 'peer_joined#2', 'peer_joined#3']);
    } finally {
      await registry.close();
    }
  });
});
