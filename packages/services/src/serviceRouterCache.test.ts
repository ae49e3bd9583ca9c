import { SovError } from '@sov/core';
import { ManualClock } from '@sov/testing';
import { ServiceRouter } from './serviceRouter';
import type { ServiceResponse } from './serviceRouter';
import type { ServiceContext } from './serviceDefinition';
import { paramsKey } from './internal/paramsKey';
import { caller, failure } from './__tests__/routerFixtures';

describe('ServiceRouter: cached answers', () => {
  /** A cacheable service that counts its handler runs and answers with the run number. */
  function counted(cache: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const runs = { n: 0 };
    const clock = new ManualClock({ start: 1_000_000 });
    const router = new ServiceRouter({ clock, getStake: async () => 50 }).register({
      name: 'quote',
      inputSchema: { type: 'object', properties: { symbol: { type: 'string' }, pad: { type: 'integer' } }, required: ['symbol'] },
      handler: async ({ symbol, pad = 0 }: { symbol: string; pad?: number }, { caller: who }: ServiceContext) => ({ symbol, run: ++runs.n, who: who?.id ?? null, pad: 'x'.repeat(pad) }),
      cache,
      ...extra,
    } as never);
    return { router, runs, clock };
  }
  const quote = (params: Record<string, unknown>) => ({ service: 'quote', params });
  const resultOf = (reply: ServiceResponse): { run: number; who: string | null } => {
    if (!reply.success) throw new Error(`expected a success, got ${JSON.stringify(reply)}`);
    return reply.result as { run: number; who: string | null };
  };

  it('answers the same params (in any key order) from the cache without running the handler, with the terms left', async () => {
    const { router, runs, clock } = counted({ ttlMs: 1000 });
    const first = await router.handleRequest(quote({ symbol: 'ACME', pad: 1 }));
    expect(first).toMatchObject({ success: true, result: { run: 1 }, cache: { ttlMs: 1000, scope: 'shared' } });
    clock.advance(400);
    const second = await router.handleRequest({ params: { pad: 1, symbol: 'ACME' }, service: 'quote' });
    expect(second).toMatchObject({ success: true, result: { run: 1 }, cache: { ttlMs: 600, scope: 'shared' } });
    expect(runs.n).toBe(1);
    // Other params are another answer.
    expect(resultOf(await router.handleRequest(quote({ symbol: 'OTHER' }))).run).toBe(2);
    expect(router.metrics.snapshot('quote')).toMatchObject({ requests: 3, successes: 3, cache: { hits: 1, misses: 2, evictions: 0 } });
  });

  it("runs the handler for a request that says cache: 'bypass' (callCache's opt-out) and keeps its answer for the next calls", async () => {
    const { router, runs } = counted({ ttlMs: 1000 });
    await router.handleRequest(quote({ symbol: 'ACME' }));
    const fresh = await router.handleRequest({ ...quote({ symbol: 'ACME' }), cache: 'bypass' });
    expect(fresh).toMatchObject({ success: true, result: { run: 2 }, cache: { ttlMs: 1000, scope: 'shared' } });
    expect(resultOf(await router.handleRequest(quote({ symbol: 'ACME' }))).run).toBe(2);
    expect(runs.n).toBe(2);
    expect(router.metrics.snapshot('quote')?.cache).toEqual({ hits: 1, misses: 2, evictions: 0 });
  });

  it('gives each reader its own copy: changing an answer does not change the cached one', async () => {
    const { router } = counted({ ttlMs: 1000 });
    const first = resultOf(await router.handleRequest(quote({ symbol: 'ACME' })));
    first.run = 99;
    const second = resultOf(await router.handleRequest(quote({ symbol: 'ACME' })));
    expect(second.run).toBe(1);
    second.run = 98;
    expect(resultOf(await router.handleRequest(quote({ symbol: 'ACME' }))).run).toBe(1);
  });

  it('runs the handler again once the TTL has passed on the router clock', async () => {
    const { router, runs, clock } = counted({ ttlMs: 1000 });
    await router.handleRequest(quote({ symbol: 'ACME' }));
    clock.advance(999);
    expect(resultOf(await router.handleRequest(quote({ symbol: 'ACME' }))).run).toBe(1);
    clock.advance(1);
    expect(resultOf(await router.handleRequest(quote({ symbol: 'ACME' }))).run).toBe(2);
    expect(runs.n).toBe(2);
  });

  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    const { router } = counted({ ttlMs: 60_000, maxEntries: 2 });
    await router.handleRequest(quote({ symbol: 'A' })); // run 1
    await router.handleRequest(quote({ symbol: 'B' })); // run 2
    await router.handleRequest(quote({ symbol: 'A' })); // hit: A is now the most recent
    await router.handleRequest(quote({ symbol: 'C' })); // run 3, drops B
    expect(resultOf(await router.handleRequest(quote({ symbol: 'A' }))).run).toBe(1);
    expect(resultOf(await router.handleRequest(quote({ symbol: 'B' }))).run).toBe(4);
    expect(router.metrics.snapshot('quote')?.cache).toEqual({ hits: 2, misses: 4, evictions: 2 });
  });

  it('keeps at most maxBytes of keys and answers; an answer larger than that is served but not kept', async () => {
    // One answer with pad 100 is about 170 bytes of key and JSON: two fit in 400 bytes, three do not.
    const { router } = counted({ ttlMs: 60_000, maxBytes: 400 });
    await router.handleRequest(quote({ symbol: 'A', pad: 100 }));
    await router.handleRequest(quote({ symbol: 'B', pad: 100 }));
    expect(resultOf(await router.handleRequest(quote({ symbol: 'A', pad: 100 }))).run).toBe(1);
    await router.handleRequest(quote({ symbol: 'C', pad: 100 })); // drops B, the least recently used
    expect(router.metrics.snapshot('quote')?.cache?.evictions).toBe(1);
    expect(resultOf(await router.handleRequest(quote({ symbol: 'A', pad: 100 }))).run).toBe(1);
    expect(resultOf(await router.handleRequest(quote({ symbol: 'B', pad: 100 }))).run).toBe(4);
    const big = await router.handleRequest(quote({ symbol: 'D', pad: 500 }));
    expect(big).toMatchObject({ success: true, result: { run: 5 } });
    expect(resultOf(await router.handleRequest(quote({ symbol: 'D', pad: 500 }))).run).toBe(6);
  });

  it('never caches a failure: a throwing handler, a SovError, an output that breaks its schema, bad input', async () => {
    let mode: 'throw' | 'sov' | 'bad-output' | 'ok' = 'throw';
    let runs = 0;
    const router = new ServiceRouter({ clock: new ManualClock({ start: 1_000_000 }) }).register({
      name: 'flaky',
      inputSchema: { type: 'object', properties: { n: { type: 'integer' } } },
      outputSchema: { type: 'object', required: ['ok'] },
      cache: { ttlMs: 60_000 },
      handler: async () => {
        runs++;
        if (mode === 'throw') throw new Error('disk on fire');
        if (mode === 'sov') throw new SovError('UNAVAILABLE', 'upstream down');
        return mode === 'bad-output' ? { nope: true } : { ok: runs };
      },
    });
    const call = () => router.handleRequest({ service: 'flaky', params: { n: 1 } });
    expect(failure(await call()).code).toBe('HANDLER_FAILED');
    mode = 'sov';
    expect(failure(await call()).code).toBe('UNAVAILABLE');
    mode = 'bad-output';
    expect(failure(await call()).code).toBe('OUTPUT_INVALID');
    expect(failure(await router.handleRequest({ service: 'flaky', params: { n: 'x' } })).code).toBe('INVALID_INPUT');
    mode = 'ok';
    const ok = await call();
    expect(ok).toMatchObject({ success: true, result: { ok: 4 }, cache: { ttlMs: 60_000, scope: 'shared' } });
    expect(await call()).toMatchObject({ success: true, result: { ok: 4 } });
    expect(runs).toBe(4);
    // Misses are handler runs for the cache: bad input never reached it.
    expect(router.metrics.snapshot('flaky')?.cache).toEqual({ hits: 1, misses: 4, evictions: 0 });
    // A failure carries no cache terms.
    mode = 'throw';
    const fresh = await router.handleRequest({ service: 'flaky', params: { n: 2 } });
    expect(fresh).not.toHaveProperty('cache');
  });

  it('keeps a perCaller answer per verified caller, never gives it to another, and never caches an anonymous call', async () => {
    const { router, runs } = counted({ ttlMs: 60_000, perCaller: true });
    const alice = await router.handleRequest(quote({ symbol: 'ACME' }), caller('did:key:alice'));
    expect(alice).toMatchObject({ result: { run: 1, who: 'did:key:alice' }, cache: { ttlMs: 60_000, scope: 'caller' } });
    const bob = await router.handleRequest(quote({ symbol: 'ACME' }), caller('did:key:bob'));
    expect(bob).toMatchObject({ result: { run: 2, who: 'did:key:bob' }, cache: { scope: 'caller' } });
    expect(resultOf(await router.handleRequest(quote({ symbol: 'ACME' }), caller('did:key:alice')))).toMatchObject({ run: 1, who: 'did:key:alice' });
    expect(resultOf(await router.handleRequest(quote({ symbol: 'ACME' }), caller('did:key:bob')))).toMatchObject({ run: 2, who: 'did:key:bob' });
    // Anonymous: run every time, and told nothing may be reused.
    const anon1 = await router.handleRequest(quote({ symbol: 'ACME' }));
    const anon2 = await router.handleRequest(quote({ symbol: 'ACME' }));
    expect([resultOf(anon1).run, resultOf(anon2).run]).toEqual([3, 4]);
    expect(anon1).not.toHaveProperty('cache');
    expect(runs.n).toBe(4);
  });

  it("never gives one caller another's answer, whatever their ids hold (an id may hold a newline)", async () => {
    const router = new ServiceRouter({ clock: new ManualClock({ start: 1_000_000 }) }).register({
      name: 'mine',
      cache: { ttlMs: 60_000, perCaller: true },
      handler: async (params: unknown, { caller: who }: ServiceContext) => ({ who: who?.id, params }),
    });
    // A key of the caller's id, a newline and the params' key would be alice's for these params and mallory's for null.
    const params = '\u0A41\u6E72';
    expect(paramsKey(params).endsWith(`\n${paramsKey(null)}`)).toBe(true);
    const mallory = `alice\n${paramsKey(params).slice(0, -`\n${paramsKey(null)}`.length)}`;
    expect(`alice\n${paramsKey(params)}`).toBe(`${mallory}\n${paramsKey(null)}`);
    await router.handleRequest({ service: 'mine', params }, caller('alice'));
    expect(await router.handleRequest({ service: 'mine', params: null }, caller(mallory))).toMatchObject({ success: true, result: { who: mallory, params: null } });
    expect(await router.handleRequest({ service: 'mine', params }, caller('alice'))).toMatchObject({ success: true, result: { who: 'alice', params } });
    expect(router.metrics.snapshot('mine')?.cache).toEqual({ hits: 1, misses: 2, evictions: 0 });
  });

  it('checks the stake before answering from the cache', async () => {
    const stakes: Record<string, number> = { 'did:key:rich': 500, 'did:key:poor': 0 };
    let runs = 0;
    const router = new ServiceRouter({ clock: new ManualClock({ start: 1_000_000 }), getStake: async (id) => stakes[id] ?? 0, stakeCacheTtlMs: 0 }).register({
      name: 'premium',
      minStake: 100,
      cache: { ttlMs: 60_000 },
      handler: async () => ({ run: ++runs }),
    });
    expect(await router.handleRequest({ service: 'premium' }, caller('did:key:rich'))).toMatchObject({ success: true, result: { run: 1 } });
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('did:key:poor'))).code).toBe('INSUFFICIENT_STAKE');
    expect(failure(await router.handleRequest({ service: 'premium' })).code).toBe('UNAUTHORIZED');
    expect(await router.handleRequest({ service: 'premium' }, caller('did:key:rich'))).toMatchObject({ success: true, result: { run: 1 } });
  });

  it('lists the cache terms in the catalog, and clearCache forgets the answers', async () => {
    const { router } = counted({ ttlMs: 5000, perCaller: true });
    router.register({ name: 'plain', handler: async () => 1 });
    const [quoteEntry, plainEntry] = router.getServiceCatalog();
    expect(quoteEntry).toMatchObject({ name: 'quote', cache: { ttlMs: 5000, perCaller: true } });
    expect(plainEntry).not.toHaveProperty('cache');
    await router.handleRequest(quote({ symbol: 'A' }), caller('did:key:alice'));
    router.clearCache('quote');
    expect(resultOf(await router.handleRequest(quote({ symbol: 'A' }), caller('did:key:alice'))).run).toBe(2);
    router.clearCache();
    expect(resultOf(await router.handleRequest(quote({ symbol: 'A' }), caller('did:key:alice'))).run).toBe(3);
  });

  it.each([
    [{ ttlMs: 0 }, 'ttlMs', 'must be a whole number of ms from 1 to 2147483647, got 0'],
    [{ ttlMs: 1.5 }, 'ttlMs', 'got 1.5'],
    [{ ttlMs: 2 ** 31 }, 'ttlMs', 'got 2147483648'],
    [{}, 'ttlMs', 'got undefined'],
    [{ ttlMs: '1000' }, 'ttlMs', 'got "1000"'],
    [{ ttlMs: 1000, perCaller: 'yes' }, 'perCaller', 'must be a boolean, got "yes"'],
    [{ ttlMs: 1000, maxEntries: 0 }, 'maxEntries', 'must be a whole number >= 1, got 0'],
    [{ ttlMs: 1000, maxBytes: -5 }, 'maxBytes', 'got -5'],
    [{ ttlMs: 1000, ttl: 5 }, 'ttl', 'is not a cache option'],
    [true, '', 'must be an object'],
    [null, '', 'must be an object'],
  ])('refuses the cache terms %p with INVALID_CONFIG naming the field, and registers nothing', (cache, field, message) => {
    const router = new ServiceRouter();
    const name = `services.quote.cache${field ? `.${field}` : ''}`;
    expect(() => router.register({ name: 'quote', handler: async () => 1, cache } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', details: { field: name }, message: expect.stringContaining(`Invalid config ${name}: `) as string }),
    );
    expect(() => router.register({ name: 'quote', handler: async () => 1, cache } as never)).toThrow(expect.objectContaining({ message: expect.stringContaining(message) as string }));
    expect(router.services).toEqual([]);
  });

  it('names every bad cache field in one message', () => {
    expect(() => new ServiceRouter().register({ name: 'q', handler: async () => 1, cache: { ttlMs: -1, maxEntries: 0 } })).toThrow(
      'Invalid config services.q.cache.ttlMs: must be a whole number of ms from 1 to 2147483647, got -1; services.q.cache.maxEntries must be a whole number >= 1, got 0',
    );
  });
});
