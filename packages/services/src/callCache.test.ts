import { Agent, createLogger, isConfigError } from '@sov/core';
import { Identity } from '@sov/crypto';
import { ManualClock, waitFor } from '@sov/testing';
import { callCache, type CallCache } from './callCache';
import { serviceRouter, type ServiceRouter } from './serviceRouter';

const quiet = createLogger({ silent: true });

/** The callers' cache clock: a time that only the test moves. */
const clock = new ManualClock({ start: 1_000_000 });

describe('callCache on real agents (port 0, signed calls)', () => {
  let server: Agent;
  let router: ServiceRouter;
  let url: string;
  const runs = { quote: 0, whoami: 0, flaky: 0, plain: 0, slow: 0 };
  let flakyFails = true;
  let releaseSlow: Array<() => void> = [];
  const agents: Agent[] = [];

  async function caller(options: { identity?: boolean; cache?: Capability } = {}): Promise<{ agent: Agent; cache: CallCache }> {
    const agent = new Agent({ name: 'caller', logger: quiet, ...(options.identity === false ? {} : { identity: Identity.generate() }) });
    const cache = agent.use(options.cache ?? callCache({ clock }));
    await agent.start();
    agents.push(agent);
    return { agent, cache };
  }
  type Capability = ReturnType<typeof callCache>;

  const served = (service: string) => router.metrics.snapshot(service)!.requests;

  beforeAll(async () => {
    server = new Agent({ name: 'quotes', identity: Identity.generate(), logger: quiet, allowAnonymous: true });
    router = server.use(serviceRouter());
    router
      .register<{ symbol: string; pad?: number }, { symbol: string; run: number; pad: string }>({
        name: 'quote',
        inputSchema: { type: 'object', properties: { symbol: { type: 'string' }, pad: { type: 'integer' } }, required: ['symbol'] },
        cache: { ttlMs: 10_000 },
        handler: async ({ symbol, pad = 0 }) => ({ symbol, run: ++runs.quote, pad: 'x'.repeat(pad) }),
      })
      .register({
        name: 'whoami',
        cache: { ttlMs: 10_000, perCaller: true },
        handler: async (_p, { caller: who }) => ({ you: who?.id ?? 'anonymous', run: ++runs.whoami }),
      })
      .register({
        name: 'flaky',
        cache: { ttlMs: 10_000 },
        handler: async () => {
          runs.flaky++;
          if (flakyFails) throw new Error('upstream down');
          return { run: runs.flaky };
        },
      })
      .register({ name: 'plain', handler: async () => ({ run: ++runs.plain }) })
      .register({
        name: 'slow',
        cache: { ttlMs: 10_000 },
        handler: () =>
          new Promise((resolve) => {
            runs.slow++;
            releaseSlow.push(() => resolve({ run: runs.slow }));
          }),
      });
    await server.start();
    url = server.url!;
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.shutdown()));
    await server?.shutdown();
  });

  beforeEach(() => {
    // The server's own cache would hide whether a call went out: start each test from an empty one.
    router.clearCache();
  });

  it('answers a repeated call from memory without a round trip while fresh, then asks again after the TTL', async () => {
    const { agent, cache } = await caller();
    const first = await agent.call<{ run: number }>(url, 'quote', { symbol: 'ACME', pad: 2 });
    const before = served('quote');
    // Same params in another key order: the same answer, and the server sees nothing.
    await expect(agent.call(url, 'quote', { pad: 2, symbol: 'ACME' })).resolves.toEqual(first);
    await expect(agent.call(url, 'quote', { symbol: 'ACME', pad: 2 })).resolves.toEqual(first);
    expect(served('quote')).toBe(before);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, entries: 1 });
    // Other params are another call.
    await agent.call(url, 'quote', { symbol: 'OTHER' });
    expect(served('quote')).toBe(before + 1);

    clock.advance(10_000);
    router.clearCache();
    const later = await agent.call<{ run: number }>(url, 'quote', { symbol: 'ACME', pad: 2 });
    expect(later.run).toBeGreaterThan(first.run);
    expect(served('quote')).toBe(before + 2);
  });

  it('reuses an answer no longer than maxTtlMs, whatever TTL the callee asks for', async () => {
    const { agent } = await caller({ cache: callCache({ clock, maxTtlMs: 1000 }) });
    await agent.call(url, 'quote', { symbol: 'CAP' });
    const before = served('quote');
    clock.advance(999);
    await agent.call(url, 'quote', { symbol: 'CAP' });
    expect(served('quote')).toBe(before);
    clock.advance(1);
    await agent.call(url, 'quote', { symbol: 'CAP' });
    expect(served('quote')).toBe(before + 1);
  });

  it('gives every caller its own copy of a kept answer', async () => {
    const { agent } = await caller();
    const first = await agent.call<{ run: number }>(url, 'quote', { symbol: 'COPY' });
    first.run = -1;
    const second = await agent.call<{ run: number }>(url, 'quote', { symbol: 'COPY' });
    expect(second.run).toBeGreaterThan(0);
    second.run = -2;
    expect((await agent.call<{ run: number }>(url, 'quote', { symbol: 'COPY' })).run).toBeGreaterThan(0);
  });

  it('never reuses what the callee did not declare cacheable', async () => {
    const { agent, cache } = await caller();
    await agent.call(url, 'plain', {});
    await agent.call(url, 'plain', {});
    expect(served('plain')).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, entries: 0 });
  });

  it('skips the cache inside bypass() (the per-call opt-out) and for calls asking for a receipt; the fresh answer replaces the kept one', async () => {
    const { agent, cache } = await caller();
    const first = await agent.call<{ run: number }>(url, 'quote', { symbol: 'BYP' });
    // The callee still holds the answer in its own cache: the opt-out asks it for a fresh one.
    const fresh = await cache.bypass(() => agent.call<{ run: number }>(url, 'quote', { symbol: 'BYP' }));
    expect(fresh.run).toBeGreaterThan(first.run);
    // The next ordinary call gets the refreshed answer, from memory.
    const before = served('quote');
    await expect(agent.call(url, 'quote', { symbol: 'BYP' })).resolves.toEqual(fresh);
    expect(served('quote')).toBe(before);
    // callDetailed asks for a receipt: always a real call, with a real receipt.
    router.clearCache();
    const detailed = await agent.callDetailed<{ run: number }>(url, 'quote', { symbol: 'BYP' });
    expect(detailed.receipt).toMatchObject({ caller: agent.id, callee: server.id, service: 'quote' });
    expect(served('quote')).toBe(before + 1);
    expect(cache.stats()).toMatchObject({ bypassed: 2, hits: 1 });
  });

  it('skips the cache for one call with agent.call(..., { cache: false }), asking the callee for a fresh answer too', async () => {
    const { agent, cache } = await caller();
    const first = await agent.call<{ run: number }>(url, 'quote', { symbol: 'OPT' });
    const before = served('quote');
    const fresh = await agent.call<{ run: number }>(url, 'quote', { symbol: 'OPT' }, { cache: false });
    expect(served('quote')).toBe(before + 1);
    expect(fresh.run).toBeGreaterThan(first.run);
    await expect(agent.call(url, 'quote', { symbol: 'OPT' })).resolves.toEqual(fresh);
    expect(served('quote')).toBe(before + 1);
    expect(cache.stats()).toMatchObject({ bypassed: 1, hits: 1 });
  });

  it('never gives one caller an answer that depends on the caller, even from one cache shared by two agents', async () => {
    const shared = callCache({ clock });
    const alice = await caller({ cache: shared });
    const bob = await caller({ cache: shared });
    const a1 = await alice.agent.call<{ you: string; run: number }>(url, 'whoami', {});
    expect(a1.you).toBe(alice.agent.id);
    const b1 = await bob.agent.call<{ you: string; run: number }>(url, 'whoami', {});
    expect(b1.you).toBe(bob.agent.id);
    expect(b1.run).toBe(a1.run + 1);
    // Each one's own answer, again from memory.
    const before = served('whoami');
    await expect(alice.agent.call(url, 'whoami', {})).resolves.toEqual(a1);
    await expect(bob.agent.call(url, 'whoami', {})).resolves.toEqual(b1);
    expect(served('whoami')).toBe(before);
    expect(alice.cache.stats()).toMatchObject({ hits: 2, misses: 2, entries: 2 });
    // A shared answer (quote) is shared between them.
    const q = await alice.agent.call(url, 'quote', { symbol: 'SHARED' });
    const quotes = served('quote');
    await expect(bob.agent.call(url, 'quote', { symbol: 'SHARED' })).resolves.toEqual(q);
    expect(served('quote')).toBe(quotes);
  });

  it('keeps nothing for an anonymous caller of a per-caller service', async () => {
    const { agent, cache } = await caller({ identity: false });
    const one = await agent.call<{ you: string; run: number }>(url, 'whoami', {});
    const two = await agent.call<{ you: string; run: number }>(url, 'whoami', {});
    expect([one.you, two.you]).toEqual(['anonymous', 'anonymous']);
    expect(two.run).toBe(one.run + 1);
    expect(cache.stats()).toMatchObject({ hits: 0, entries: 0 });
  });

  it('never keeps a failure: the next call goes to the callee', async () => {
    const { agent } = await caller();
    flakyFails = true;
    await expect(agent.call(url, 'flaky', {})).rejects.toMatchObject({ code: 'HANDLER_FAILED' });
    await expect(agent.call(url, 'flaky', {})).rejects.toMatchObject({ code: 'HANDLER_FAILED' });
    flakyFails = false;
    const ok = await agent.call<{ run: number }>(url, 'flaky', {});
    await expect(agent.call(url, 'flaky', {})).resolves.toEqual(ok);
    expect(runs.flaky).toBe(3);
  });

  it('keeps at most maxEntries answers and maxBytes bytes, least recently used dropped first', async () => {
    const { agent, cache } = await caller({ cache: callCache({ clock, maxEntries: 2 }) });
    await agent.call(url, 'quote', { symbol: 'E1' });
    await agent.call(url, 'quote', { symbol: 'E2' });
    await agent.call(url, 'quote', { symbol: 'E1' }); // hit: E1 most recent
    await agent.call(url, 'quote', { symbol: 'E3' }); // drops E2
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1, hits: 1 });
    router.clearCache();
    const before = served('quote');
    await agent.call(url, 'quote', { symbol: 'E1' });
    expect(served('quote')).toBe(before);
    await agent.call(url, 'quote', { symbol: 'E2' });
    expect(served('quote')).toBe(before + 1);

    // Bytes: an answer with 300 bytes of padding (plus its key) fits in 1000 bytes twice, not three times.
    const small = await caller({ cache: callCache({ clock, maxBytes: 1000 }) });
    for (const symbol of ['B1', 'B2', 'B3']) await small.agent.call(url, 'quote', { symbol, pad: 300 });
    expect(small.cache.stats()).toMatchObject({ entries: 2, evictions: 1 });
    expect(small.cache.stats().bytes).toBeLessThanOrEqual(1000);
    // One larger than the whole bound is never kept.
    await small.agent.call(url, 'quote', { symbol: 'HUGE', pad: 2000 });
    await small.agent.call(url, 'quote', { symbol: 'HUGE', pad: 2000 });
    expect(small.cache.stats()).toMatchObject({ hits: 0, entries: 2 });
  });

  it('lets identical calls made at once wait for the one on its way (once the service is known cacheable)', async () => {
    const { agent, cache } = await caller();
    releaseSlow = [];
    const learn = agent.call(url, 'slow', { n: 0 });
    await waitFor('the slow call to reach its handler', () => releaseSlow.length === 1);
    releaseSlow.shift()!();
    await learn;
    const calls = Array.from({ length: 10 }, () => agent.call<{ run: number }>(url, 'slow', { n: 1 }));
    await waitFor('the slow call to reach its handler', () => releaseSlow.length === 1);
    releaseSlow.shift()!();
    const replies = await Promise.all(calls);
    expect(new Set(replies.map((r) => r.run)).size).toBe(1);
    expect(runs.slow).toBe(2);
    expect(cache.stats()).toMatchObject({ joined: 9, misses: 2 });
    // A waiting call's own abort ends it with CANCELLED; the leader goes on.
    const leader = agent.call(url, 'slow', { n: 2 });
    await waitFor('the slow call to reach its handler', () => releaseSlow.length === 1);
    const controller = new AbortController();
    const follower = agent.call(url, 'slow', { n: 2 }, { signal: controller.signal });
    controller.abort();
    await expect(follower).rejects.toMatchObject({ code: 'CANCELLED' });
    releaseSlow.shift()!();
    await expect(leader).resolves.toMatchObject({ run: 3 });
  });

  it('counts hits, misses and evictions in the agent /metrics', async () => {
    const { agent } = await caller({ cache: callCache({ clock, maxEntries: 1 }) });
    await agent.call(url, 'quote', { symbol: 'M1' });
    await agent.call(url, 'quote', { symbol: 'M1' });
    await agent.call(url, 'quote', { symbol: 'M2' });
    const text = await (await fetch(`${agent.url}/metrics`)).text();
    expect(text).toMatch(/^# TYPE sov_call_cache_hits_total counter$/m);
    expect(text).toMatch(/^sov_call_cache_hits_total 1$/m);
    expect(text).toMatch(/^sov_call_cache_misses_total 2$/m);
    expect(text).toMatch(/^sov_call_cache_evictions_total 1$/m);
    expect(text).toMatch(/^sov_call_cache_entries 1$/m);
    // The callee counts its own cache per service.
    const served = await (await fetch(`${url}/metrics`)).text();
    expect(served).toMatch(/^sov_service_cache_hits_total\{service="quote"\} \d+$/m);
    expect(served).toMatch(/^sov_service_cache_misses_total\{service="quote"\} \d+$/m);
    expect(served).not.toMatch(/service_cache_hits_total\{service="plain"\}/);
  });

  it('shows what is cacheable in GET /catalog', async () => {
    const body = (await (await fetch(`${url}/catalog`)).json()) as { services: Array<{ name: string; cache?: unknown }> };
    const byName = Object.fromEntries(body.services.map((s) => [s.name, s.cache]));
    expect(byName).toEqual({
      quote: { ttlMs: 10_000, perCaller: false },
      whoami: { ttlMs: 10_000, perCaller: true },
      flaky: { ttlMs: 10_000, perCaller: false },
      plain: undefined,
      slow: { ttlMs: 10_000, perCaller: false },
    });
  });

  it.each([
    [{ maxEntries: 0 }, 'callCache.maxEntries'],
    [{ maxBytes: 1.5 }, 'callCache.maxBytes'],
    [{ maxTtlMs: -1 }, 'callCache.maxTtlMs'],
    [{ coalesce: 'yes' }, 'callCache.coalesce'],
  ])('refuses the options %p with INVALID_CONFIG naming %s', (options, field) => {
    let error: unknown;
    try {
      callCache(options as never);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', field });
  });
});

