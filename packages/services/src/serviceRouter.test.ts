import { SovError, hasErrorCode, isValidationError } from '@sov/core';
import { ServiceRouter } from './serviceRouter';
import { failure, processDataService } from './__tests__/routerFixtures';

describe('ServiceRouter: registration', () => {
  it('refuses a duplicate name with CONFLICT', () => {
    const router = new ServiceRouter().register(processDataService);
    expect(() => router.register(processDataService)).toThrow(expect.objectContaining({ code: 'CONFLICT', message: 'Service "process_data" is already registered' }));
  });

  it.each([
    ['price', 0.5],
    ['price', -1],
    ['minStake', 2 ** 60],
    ['minStake', Number.NaN],
  ])('refuses a %s of %p (amounts are whole minor units) and registers nothing', (field, value) => {
    const router = new ServiceRouter();
    expect(() => router.register({ ...processDataService, [field]: value })).toThrow(
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
    const router = new ServiceRouter().register(processDataService);
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
    const router = new ServiceRouter().register(processDataService);
    const reply = await router.handleRequest({ service: 'process_data', params: { data: [1, 2, 3], algorithm: 'mean' } });
    expect(reply).toEqual({ success: true, service: 'process_data', result: { result: { value: 2 }, confidence: 0.9 }, execution_time: expect.any(Number) });
    expect(reply.success && reply.execution_time).toBeGreaterThanOrEqual(0);
  });

  it('SERVICE_NAME_MISSING when no service is named (or the request is not an object)', async () => {
    const router = new ServiceRouter().register(processDataService);
    for (const request of [{}, { service: '' }, { service: 42 }, null, [1]]) {
      const error = failure(await router.handleRequest(request as never));
      expect(error.code).toBe('SERVICE_NAME_MISSING');
      expect(error.message).toContain('"process_data"');
    }
  });

  it('SERVICE_NOT_FOUND for an unknown service, listing those on offer', async () => {
    const router = new ServiceRouter().register(processDataService);
    const error = failure(await router.handleRequest({ service: 'nope' }));
    expect(error).toEqual({ code: 'SERVICE_NOT_FOUND', message: 'Unknown service "nope"; this agent offers "process_data"' });
  });

  it('INVALID_INPUT lists every bad field, and the handler never runs', async () => {
    const handler = jest.fn(processDataService.handler);
    const router = new ServiceRouter().register({ ...processDataService, handler });
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
    const router = new ServiceRouter().register(processDataService);
    const error = await router.execute({ service: 'process_data', params: { data: 'x' } }).catch((e: unknown) => e);
    expect(isValidationError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', problems: [{ path: '/algorithm', message: 'is required' }, { path: '/data', message: 'must be array' }] });
    await expect(router.execute({ service: 'nope' })).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND' });
    await expect(router.execute({ service: 'process_data', params: { data: [2], algorithm: 'max' } })).resolves.toMatchObject({ success: true, result: { result: { value: 2 } } });
  });

  it('checks missing params as {}', async () => {
    const router = new ServiceRouter().register(processDataService);
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
    const router = new ServiceRouter().register({ ...processDataService, handler: async () => ({ result: 'oops' }) as never });
    const error = failure(await router.handleRequest({ service: 'process_data', params: { data: [1], algorithm: 'mean' } }));
    expect(error.code).toBe('OUTPUT_INVALID');
    expect(error.details).toEqual([
      { path: '/confidence', message: 'is required' },
      { path: '/result', message: 'must be object' },
    ]);
  });

  it('never throws, whatever it is given', async () => {
    const router = new ServiceRouter().register(processDataService);
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

describe('ServiceRouter: catalog and metrics', () => {
  it('lists name, description, schemas, stake terms, price, limits and metrics', async () => {
    const router = new ServiceRouter()
      .register({ ...processDataService, price: 2, minStake: 0, maxConcurrency: 4 })
      .register({ name: 'free', handler: async () => 1, timeoutMs: 0 });
    await router.handleRequest({ service: 'process_data', params: { data: [1], algorithm: 'max' } });
    await router.handleRequest({ service: 'process_data', params: {} });
    expect(router.getServiceCatalog()).toEqual([
      {
        name: 'process_data',
        description: 'Process and analyze data sets',
        inputSchema: processDataService.inputSchema,
        outputSchema: processDataService.outputSchema,
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
    const router = new ServiceRouter().register({ ...processDataService, price: 2, minStake: 100 });
    expect(router.registration()).toEqual({
      services: [{ name: 'process_data', description: 'Process and analyze data sets', price: 2, requiresStake: true, minStake: 100 }],
      capabilities: ['process_data'],
    });
    const quiet = new ServiceRouter({ advertiseCapabilities: false }).register({ name: 'a', handler: async () => 1 });
    expect(quiet.registration()).toEqual({ services: [{ name: 'a', requiresStake: false, minStake: 0 }] });
  });
});
