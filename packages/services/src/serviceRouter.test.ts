import { SovError, hasErrorCode, isValidationError, type WireFailure } from '@sov/core';
import { ManualClock } from '@sov/testing';
import { ServiceRouter } from './serviceRouter';
import type { ServiceResponse } from './serviceRouter';
import type { ServiceContext } from './serviceDefinition';

const processData = {
  name: 'process_data',
  description: 'Process and analyze data sets',
  inputSchema: {
    type: 'object',
    properties: { data: { type: 'array', items: { type: 'number' } }, algorithm: { type: 'string', enum: ['mean', 'max'] } },
    required: ['data', 'algorithm'],
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: { result: { type: 'object' }, confidence: { type: 'number' } },
    required: ['result', 'confidence'],
  },
  handler: async ({ data, algorithm }: { data: number[]; algorithm: 'mean' | 'max' }) => ({
    result: { value: algorithm === 'max' ? Math.max(...data) : data.reduce((a, b) => a + b, 0) / data.length },
    confidence: 0.9,
  }),
};

function failure(reply: ServiceResponse): WireFailure['error'] {
  if (reply.success) throw new Error(`expected a failure, got ${JSON.stringify(reply)}`);
  return reply.error;
}

const caller = (id: string) => ({ caller: { id, keyId: id } });

describe('ServiceRouter: registration', () => {
  it('refuses a duplicate name with CONFLICT', () => {
    const router = new ServiceRouter().register(processData);
    expect(() => router.register(processData)).toThrow(expect.objectContaining({ code: 'CONFLICT', message: 'Service "process_data" is already registered' }));
  });

  it.each([
    ['price', 0.5],
    ['price', -1],
    ['minStake', 2 ** 60],
    ['minStake', Number.NaN],
  ])('refuses a %s of %p (amounts are whole minor units) and registers nothing', (field, value) => {
    const router = new ServiceRouter();
    expect(() => router.register({ ...processData, [field]: value })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', details: [{ path: `/${field}`, message: expect.stringContaining('whole number of minor units') as string }] }),
    );
    expect(router.getServiceCatalog()).toEqual([]);
  });

  it('refuses an invalid schema at registration, naming the service and the problem', () => {
    const router = new ServiceRouter();
    let error: unknown;
    try {
      router.register({ name: 'bad', handler: async () => 1, inputSchema: { type: 'objekt' } });
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toMatch(/^Invalid inputSchema of service "bad": \/type/);
    expect(() => router.register({ name: 'typo', handler: async () => 1, outputSchema: { type: 'object', requried: ['a'] } })).toThrow(
      /outputSchema of service "typo".*requried/,
    );
    expect(router.services).toEqual([]);
  });

  it('lists every bad field of a definition at once', () => {
    const router = new ServiceRouter();
    let error: SovError | undefined;
    try {
      router.register({ name: 'no spaces allowed', handler: 'nope' as never, price: -1, minStake: Number.NaN, timeoutMs: -5, maxConcurrency: 0.5 });
    } catch (e) {
      error = e as SovError;
    }
    expect(error?.code).toBe('INVALID_INPUT');
    expect((error?.details as Array<{ path: string }>).map((p) => p.path)).toEqual([
      '/name',
      '/handler',
      '/minStake',
      '/price',
      '/timeoutMs',
      '/maxConcurrency',
    ]);
  });

  it('refuses minStake above 0 with requiresStake false, and gates on minStake alone', () => {
    const router = new ServiceRouter();
    expect(() => router.register({ name: 'x', handler: async () => 1, requiresStake: false, minStake: 5 })).toThrow(/requiresStake/);
    router.register({ name: 'y', handler: async () => 1, minStake: 5 });
    expect(router.getServiceCatalog()[0]).toMatchObject({ name: 'y', requiresStake: true, minStake: 5 });
  });

  it('compiles each schema once, at registration', async () => {
    const router = new ServiceRouter().register(processData);
    const compile = jest.spyOn((router as unknown as { ajv: { compile: () => unknown } }).ajv, 'compile');
    for (let i = 0; i < 5; i++) await router.handleRequest({ service: 'process_data', params: { data: [1], algorithm: 'mean' } });
    expect(compile).not.toHaveBeenCalled();
  });

  it('has the guide name registerService', () => {
    const router = new ServiceRouter();
    router.registerService({ name: 'a', handler: async () => 1 });
    expect(router.services).toEqual(['a']);
  });
});

describe('ServiceRouter: handleRequest', () => {
  it('answers the guide success shape with the handler result and execution_time in ms', async () => {
    const router = new ServiceRouter().register(processData);
    const reply = await router.handleRequest({ service: 'process_data', params: { data: [1, 2, 3], algorithm: 'mean' } });
    expect(reply).toEqual({ success: true, service: 'process_data', result: { result: { value: 2 }, confidence: 0.9 }, execution_time: expect.any(Number) });
    expect(reply.success && reply.execution_time).toBeGreaterThanOrEqual(0);
  });

  it('SERVICE_NAME_MISSING when no service is named (or the request is not an object)', async () => {
    const router = new ServiceRouter().register(processData);
    for (const request of [{}, { service: '' }, { service: 42 }, null, [1]]) {
      const error = failure(await router.handleRequest(request as never));
      expect(error.code).toBe('SERVICE_NAME_MISSING');
      expect(error.message).toContain('"process_data"');
    }
  });

  it('SERVICE_NOT_FOUND for an unknown service, listing those on offer', async () => {
    const router = new ServiceRouter().register(processData);
    const error = failure(await router.handleRequest({ service: 'nope' }));
    expect(error).toEqual({ code: 'SERVICE_NOT_FOUND', message: 'Unknown service "nope"; this agent offers "process_data"' });
  });

  it('INVALID_INPUT lists every bad field, and the handler never runs', async () => {
    const handler = jest.fn(processData.handler);
    const router = new ServiceRouter().register({ ...processData, handler });
    const error = failure(await router.handleRequest({ service: 'process_data', params: { data: [1, 'x'], extra: true } }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.details).toEqual([
      { path: '/algorithm', message: 'is required' },
      { path: '/extra', message: 'is not allowed' },
      { path: '/data/1', message: 'must be number' },
    ]);
    expect(error.message).toBe('Invalid input of service "process_data": /algorithm is required; /extra is not allowed; /data/1 must be number');
    expect(handler).not.toHaveBeenCalled();
  });

  it('execute throws the refusal as a SovError: a ValidationError for bad input', async () => {
    const router = new ServiceRouter().register(processData);
    const error = await router.execute({ service: 'process_data', params: { data: 'x' } }).catch((e: unknown) => e);
    expect(isValidationError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', problems: [{ path: '/algorithm', message: 'is required' }, { path: '/data', message: 'must be array' }] });
    await expect(router.execute({ service: 'nope' })).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND' });
    await expect(router.execute({ service: 'process_data', params: { data: [2], algorithm: 'max' } })).resolves.toMatchObject({ success: true, result: { result: { value: 2 } } });
  });

  it('checks missing params as {}', async () => {
    const router = new ServiceRouter().register(processData);
    const error = failure(await router.handleRequest({ service: 'process_data' }));
    expect(error.details).toEqual([
      { path: '/data', message: 'is required' },
      { path: '/algorithm', message: 'is required' },
    ]);
  });

  it('HANDLER_FAILED when the handler throws (sync or async), with the message and the cause kept', async () => {
    const router = new ServiceRouter()
      .register({ name: 'async', handler: async () => Promise.reject(new Error('disk full')) })
      .register({ name: 'sync', timeoutMs: 0, handler: () => { throw new Error('bad state'); } })
      .register({ name: 'sync_bounded', handler: () => { throw new Error('bad state'); } });
    expect(failure(await router.handleRequest({ service: 'async' }))).toEqual({ code: 'HANDLER_FAILED', message: 'Service "async" failed: disk full' });
    expect(failure(await router.handleRequest({ service: 'sync' })).code).toBe('HANDLER_FAILED');
    expect(failure(await router.handleRequest({ service: 'sync_bounded' })).code).toBe('HANDLER_FAILED');
    const thrown = await router.execute({ service: 'async' }).catch((e: SovError) => e);
    expect((thrown as SovError).cause).toEqual(new Error('disk full'));
  });

  it('keeps the message to itself when exposeHandlerErrors is false', async () => {
    const router = new ServiceRouter({ exposeHandlerErrors: false }).register({ name: 'a', handler: async () => Promise.reject(new Error('password=hunter2')) });
    expect(failure(await router.handleRequest({ service: 'a' })).message).toBe('Service "a" failed');
  });

  it("passes a handler's own SovError through with its code", async () => {
    const router = new ServiceRouter().register({ name: 'a', handler: async () => Promise.reject(new SovError('NOT_FOUND', 'No such dataset 7')) });
    expect(failure(await router.handleRequest({ service: 'a' }))).toEqual({ code: 'NOT_FOUND', message: 'No such dataset 7' });
  });

  it('OUTPUT_INVALID when the result breaks the output schema', async () => {
    const router = new ServiceRouter().register({ ...processData, handler: async () => ({ result: 'oops' }) as never });
    const error = failure(await router.handleRequest({ service: 'process_data', params: { data: [1], algorithm: 'mean' } }));
    expect(error.code).toBe('OUTPUT_INVALID');
    expect(error.details).toEqual([
      { path: '/confidence', message: 'is required' },
      { path: '/result', message: 'must be object' },
    ]);
  });

  it('never throws, whatever it is given', async () => {
    const router = new ServiceRouter().register(processData);
    await expect(router.handleRequest(undefined as never)).resolves.toMatchObject({ success: false });
    await expect(router.handleRequest({ service: 'process_data', params: null })).resolves.toMatchObject({ success: false, error: { code: 'INVALID_INPUT' } });
  });
});

describe('ServiceRouter: time and concurrency', () => {
  afterEach(() => jest.useRealTimers());

  it('TIMEOUT after the service timeout, aborting the handler signal with the TIMEOUT error', async () => {
    jest.useFakeTimers();
    let seen: AbortSignal | undefined;
    const router = new ServiceRouter().register({
      name: 'slow',
      timeoutMs: 50,
      handler: (_p, { signal }) => {
        seen = signal;
        return new Promise(() => undefined);
      },
    });
    const reply = router.handleRequest({ service: 'slow' });
    await jest.advanceTimersByTimeAsync(49);
    expect(seen?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(failure(await reply)).toEqual({ code: 'TIMEOUT', message: 'Service "slow" timed out after 50 ms' });
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as SovError).code).toBe('TIMEOUT');
    expect(router.metrics.snapshot('slow')).toMatchObject({ inFlight: 0, failures: 1, failuresByCode: { TIMEOUT: 1 } });
  });

  it('times each call from its own start: one timer serves calls that start at different times', async () => {
    jest.useFakeTimers();
    const router = new ServiceRouter({ defaultTimeoutMs: 100 }).register({ name: 'slow', handler: () => new Promise(() => undefined) });
    const first = router.handleRequest({ service: 'slow' });
    await jest.advanceTimersByTimeAsync(60);
    const second = router.handleRequest({ service: 'slow' });
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await jest.advanceTimersByTimeAsync(40);
    expect(failure(await first).code).toBe('TIMEOUT');
    expect(secondDone).toBe(false);
    await jest.advanceTimersByTimeAsync(60);
    expect(failure(await second).code).toBe('TIMEOUT');
  });

  it('aborts the handler signal when the outer signal aborts (the caller went away)', async () => {
    const outer = new AbortController();
    let seen: AbortSignal | undefined;
    const router = new ServiceRouter().register({
      name: 'wait',
      handler: (_p, { signal }) => {
        seen = signal;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      },
    });
    const reply = router.handleRequest({ service: 'wait' }, { signal: outer.signal });
    outer.abort(new SovError('UNAVAILABLE', 'Caller closed the connection'));
    expect(failure(await reply).code).toBe('UNAVAILABLE');
    expect(seen?.aborted).toBe(true);
  });

  it('TOO_MANY_IN_FLIGHT beyond maxConcurrency; a slot frees when a call ends', async () => {
    const gates: Array<() => void> = [];
    const router = new ServiceRouter().register({
      name: 'gated',
      maxConcurrency: 2,
      handler: () => new Promise<string>((resolve) => gates.push(() => resolve('ok'))),
    });
    const a = router.handleRequest({ service: 'gated' });
    const b = router.handleRequest({ service: 'gated' });
    const refused = failure(await router.handleRequest({ service: 'gated' }));
    expect(refused).toEqual({ code: 'TOO_MANY_IN_FLIGHT', message: 'Service "gated" is serving 2 calls, its limit; retry later', details: { limit: 2 } });
    expect(router.metrics.snapshot('gated')?.inFlight).toBe(2);
    await Promise.resolve();
    gates.shift()!();
    await expect(a).resolves.toMatchObject({ success: true, result: 'ok' });
    const c = router.handleRequest({ service: 'gated' });
    await Promise.resolve();
    gates.splice(0).forEach((open) => open());
    await expect(Promise.all([b, c])).resolves.toEqual([expect.objectContaining({ success: true }), expect.objectContaining({ success: true })]);
    expect(router.metrics.snapshot('gated')).toMatchObject({ requests: 4, successes: 3, failures: 1, inFlight: 0, failuresByCode: { TOO_MANY_IN_FLIGHT: 1 } });
  });

  it('keeps limits per service', async () => {
    const router = new ServiceRouter({ defaultMaxConcurrency: 1 })
      .register({ name: 'a', handler: () => new Promise(() => undefined), timeoutMs: 0 })
      .register({ name: 'b', handler: async () => 'b' });
    void router.handleRequest({ service: 'a' });
    expect(failure(await router.handleRequest({ service: 'a' })).code).toBe('TOO_MANY_IN_FLIGHT');
    await expect(router.handleRequest({ service: 'b' })).resolves.toMatchObject({ success: true });
  });
});

describe('ServiceRouter: stake', () => {
  const gated = { name: 'premium', minStake: 100, handler: async () => 'served' };

  it('UNAUTHORIZED for an anonymous caller of a stake-gated service; stake is never read', async () => {
    const getStake = jest.fn(async () => 1000);
    const router = new ServiceRouter({ getStake }).register(gated);
    const error = failure(await router.handleRequest({ service: 'premium' }));
    expect(error).toEqual({ code: 'UNAUTHORIZED', message: expect.stringMatching(/needs a stake of 100: sign the request/) });
    expect(getStake).not.toHaveBeenCalled();
  });

  it('ignores a client_id in the request body: only the verified caller counts', async () => {
    const router = new ServiceRouter({ getStake: async () => 1000 }).register(gated);
    expect(failure(await router.handleRequest({ service: 'premium', client_id: 'rich' })).code).toBe('UNAUTHORIZED');
  });

  it('INSUFFICIENT_STAKE below minStake, with required and current', async () => {
    const router = new ServiceRouter({ getStake: async () => 40 }).register(gated);
    const error = failure(await router.handleRequest({ service: 'premium' }, caller('did:key:alice')));
    expect(error).toEqual({
      code: 'INSUFFICIENT_STAKE',
      message: 'Insufficient stake for service "premium": required 100, did:key:alice has 40',
      details: { required: 100, current: 40 },
    });
  });

  it('serves a caller at or above minStake', async () => {
    const router = new ServiceRouter({ getStake: async () => 100 }).register(gated);
    await expect(router.handleRequest({ service: 'premium' }, caller('did:key:alice'))).resolves.toMatchObject({ success: true, result: 'served' });
  });

  it('reads a stake once per caller for a burst (concurrent calls share the lookup) and again after the TTL', async () => {
    const clock = new ManualClock({ start: 1_000_000 });
    const stakes: Record<string, number> = { 'did:key:alice': 150, 'did:key:bob': 10 };
    const getStake = jest.fn(async (id: string) => stakes[id] ?? 0);
    const router = new ServiceRouter({ getStake, clock, stakeCacheTtlMs: 5000 }).register(gated);
    const replies = await Promise.all(Array.from({ length: 10 }, () => router.handleRequest({ service: 'premium' }, caller('did:key:alice'))));
    expect(replies.every((r) => r.success)).toBe(true);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('did:key:bob'))).code).toBe('INSUFFICIENT_STAKE');
    expect(getStake).toHaveBeenCalledTimes(2);
    stakes['did:key:bob'] = 500;
    clock.advance(4999);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('did:key:bob'))).code).toBe('INSUFFICIENT_STAKE');
    clock.advance(1);
    await expect(router.handleRequest({ service: 'premium' }, caller('did:key:bob'))).resolves.toMatchObject({ success: true });
    expect(getStake).toHaveBeenCalledTimes(3);
  });

  it('invalidateStake forgets a cached stake at once', async () => {
    let stake = 0;
    const router = new ServiceRouter({ getStake: async () => stake }).register(gated);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('c'))).code).toBe('INSUFFICIENT_STAKE');
    stake = 100;
    router.invalidateStake('c');
    await expect(router.handleRequest({ service: 'premium' }, caller('c'))).resolves.toMatchObject({ success: true });
  });

  it('keeps the cache bounded', async () => {
    const getStake = jest.fn(async (_id: string) => 100);
    const router = new ServiceRouter({ getStake, stakeCacheSize: 2 }).register(gated);
    for (const id of ['a', 'b', 'c', 'a']) await router.handleRequest({ service: 'premium' }, caller(id));
    expect(getStake.mock.calls.map((c) => c[0])).toEqual(['a', 'b', 'c', 'a']);
  });

  it('UNAVAILABLE when the stake cannot be read; the failure is not cached', async () => {
    const getStake = jest.fn().mockRejectedValueOnce(new Error('registry down')).mockResolvedValue(100);
    const router = new ServiceRouter({ getStake }).register(gated);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('a')))).toEqual({
      code: 'UNAVAILABLE',
      message: 'Cannot check the stake of a: registry down',
    });
    await expect(router.handleRequest({ service: 'premium' }, caller('a'))).resolves.toMatchObject({ success: true });
  });

  it('UNAVAILABLE for a standalone router with no stake source', async () => {
    const router = new ServiceRouter().register(gated);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('a'))).code).toBe('UNAVAILABLE');
  });
});

describe('ServiceRouter: catalog and metrics', () => {
  it('lists name, description, schemas, stake terms, price, limits and metrics', async () => {
    const router = new ServiceRouter()
      .register({ ...processData, price: 2, minStake: 0, maxConcurrency: 4 })
      .register({ name: 'free', handler: async () => 1, timeoutMs: 0 });
    await router.handleRequest({ service: 'process_data', params: { data: [1], algorithm: 'max' } });
    await router.handleRequest({ service: 'process_data', params: {} });
    expect(router.getServiceCatalog()).toEqual([
      {
        name: 'process_data',
        description: 'Process and analyze data sets',
        inputSchema: processData.inputSchema,
        outputSchema: processData.outputSchema,
        requiresStake: false,
        minStake: 0,
        price: 2,
        timeoutMs: 30000,
        maxConcurrency: 4,
        metrics: {
          requests: 2,
          successes: 1,
          failures: 1,
          failuresByCode: { INVALID_INPUT: 1 },
          inFlight: 0,
          totalTimeMs: expect.any(Number),
          averageTimeMs: expect.any(Number),
        },
      },
      {
        name: 'free',
        description: '',
        requiresStake: false,
        minStake: 0,
        metrics: { requests: 0, successes: 0, failures: 0, failuresByCode: {}, inFlight: 0, totalTimeMs: 0, averageTimeMs: 0 },
      },
    ]);
  });

  it('contributes services (and their names as capabilities) to the registry record', () => {
    const router = new ServiceRouter().register({ ...processData, price: 2, minStake: 100 });
    expect(router.registration()).toEqual({
      services: [{ name: 'process_data', description: 'Process and analyze data sets', price: 2, requiresStake: true, minStake: 100 }],
      capabilities: ['process_data'],
    });
    const quiet = new ServiceRouter({ advertiseCapabilities: false }).register({ name: 'a', handler: async () => 1 });
    expect(quiet.registration()).toEqual({ services: [{ name: 'a', requiresStake: false, minStake: 0 }] });
  });
});

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
