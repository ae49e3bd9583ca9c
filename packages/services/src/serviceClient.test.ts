import { Agent, createLogger, isRemoteError, isSovError, type CallOptions, type CallOutcome } from '@sov/core';
import { Identity } from '@sov/crypto';
import { z } from 'zod';
import { serviceClient, type ServiceCaller } from './serviceClient';
import { serviceRouter, type ServiceRouter } from './serviceRouter';
import { defineService } from './serviceSchema';

const logger = createLogger({ silent: true });

const translate = defineService({
  name: 'translate',
  inputSchema: { type: 'object', properties: { text: { type: 'string' }, to: { enum: ['en', 'fr'] } }, required: ['text', 'to'], additionalProperties: false },
  outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
});

/** A caller whose callDetailed answers `result` from agent "did:key:peer", and records what it was asked. */
function fakeCaller(result: unknown): ServiceCaller & { calls: Array<{ target: unknown; service: string; params: unknown; options: CallOptions | undefined }> } {
  const calls: Array<{ target: unknown; service: string; params: unknown; options: CallOptions | undefined }> = [];
  return {
    calls,
    callDetailed: <T>(target: unknown, service: string, params?: unknown, options?: CallOptions) => {
      calls.push({ target, service, params, options });
      return Promise.resolve({ result: result as T, agentId: 'did:key:peer', endpoint: 'http://peer', receipt: undefined, executionTime: 1 } satisfies CallOutcome<T>);
    },
  };
}

describe('serviceClient between real agents', () => {
  let callee: Agent;
  let router: ServiceRouter;
  let caller: Agent;

  beforeAll(async () => {
    callee = new Agent({ name: 'translator', identity: Identity.generate(), logger });
    router = callee.use(serviceRouter());
    router
      .register({ ...translate, handler: ({ text, to }) => ({ text: to === 'en' ? text.replace('bonjour', 'hello') : text }) })
      // A callee whose service drifted from the contract the caller holds: it now answers { translated }.
      .register({ name: 'translate_v2', handler: () => ({ translated: 'hello' }) })
      .register({
        name: 'stamp',
        inputSchema: z.object({ days: z.number().int() }),
        handler: ({ days }) => ({ at: new Date(Date.UTC(2026, 0, 1 + days)).toISOString() }),
      });
    await callee.start();
    caller = new Agent({ name: 'reader', identity: Identity.generate(), logger });
    await caller.start();
  });

  afterAll(async () => {
    await caller.shutdown();
    await callee.shutdown();
  });

  it('calls a service with typed params and returns its checked result', async () => {
    const client = serviceClient(caller, translate);
    expect(client.service).toBe('translate');
    await expect(client.call(callee.url!, { text: 'bonjour', to: 'en' })).resolves.toEqual({ text: 'hello' });
    const outcome = await client.callDetailed(callee.url!, { text: 'salut', to: 'fr' });
    expect(outcome).toMatchObject({ result: { text: 'salut' }, endpoint: callee.url });
    expect(typeof outcome.executionTime).toBe('number');
  });

  it("rejects a reply that breaks the contract's output schema with OUTPUT_INVALID, naming the field and the agent", async () => {
    const drifted = serviceClient(caller, { ...translate, name: 'translate_v2' });
    const error = await drifted.call(callee.url!, { text: 'bonjour', to: 'en' }).catch((e: unknown) => e);
    expect(isSovError(error)).toBe(true);
    expect(isRemoteError(error)).toBe(false);
    expect(error).toMatchObject({
      code: 'OUTPUT_INVALID',
      message: `Service "translate_v2" of ${callee.url!} answered with output that breaks its schema: /text is required`,
      details: [{ path: '/text', message: 'is required' }],
    });
  });

  it("returns a Standard Schema output's value, transforms applied", async () => {
    const stamp = serviceClient(caller, {
      name: 'stamp',
      inputSchema: z.object({ days: z.number().int() }),
      outputSchema: z.object({ at: z.string() }).transform(({ at }) => ({ at: new Date(at) })),
    });
    const { at } = await stamp.call(callee.url!, { days: 1 });
    expect(at).toBeInstanceOf(Date);
    expect(at.toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });

  it("surfaces the callee's INVALID_INPUT (its validator's field list) for params the types could not stop", async () => {
    const stamp = serviceClient(caller, { name: 'stamp', inputSchema: z.object({ days: z.number().int() }) });
    const error = await stamp.call(callee.url!, JSON.parse('{"days":"soon"}') as { days: number }).catch((e: unknown) => e);
    expect(isRemoteError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', details: [{ path: '/days', message: expect.stringContaining('expected number') as string }] });
  });
});

describe('serviceClient', () => {
  it('sends the service name, params and options as agent.call does (no receipt for call, the default for callDetailed)', async () => {
    const agent = fakeCaller({ text: 'hello' });
    const client = serviceClient(agent, translate);
    await client.call({ capability: 'translate', maxPrice: 5 }, { text: 'bonjour', to: 'en' }, { timeoutMs: 500 });
    await client.callDetailed('did:key:peer', { text: 'salut', to: 'fr' });
    expect(agent.calls).toEqual([
      { target: { capability: 'translate', maxPrice: 5 }, service: 'translate', params: { text: 'bonjour', to: 'en' }, options: { receipt: false, timeoutMs: 500 } },
      { target: 'did:key:peer', service: 'translate', params: { text: 'salut', to: 'fr' }, options: {} },
    ]);
  });

  it('passes a result through unchecked only when the contract has no output schema', async () => {
    const loose = serviceClient(fakeCaller({ anything: [1, 2] }), { name: 'ping' });
    await expect(loose.call('did:key:peer')).resolves.toEqual({ anything: [1, 2] });
  });

  it("names the peer's agent id in OUTPUT_INVALID when called by id", async () => {
    const client = serviceClient(fakeCaller({ text: 42 }), translate);
    await expect(client.call('did:key:peer', { text: 'x', to: 'en' })).rejects.toMatchObject({
      code: 'OUTPUT_INVALID',
      message: 'Service "translate" of did:key:peer answered with output that breaks its schema: /text must be string',
    });
  });

  it('refuses a contract without a name, or with an output schema Ajv cannot compile, with INVALID_INPUT', () => {
    expect(() => serviceClient(fakeCaller(null), { name: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', details: [{ path: '/name', message: 'must be the name of the service (a non-empty string)' }] }),
    );
    expect(() => serviceClient(fakeCaller(null), undefined as never)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => serviceClient(fakeCaller(null), { name: 'bad', outputSchema: { type: 'strnig' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('outputSchema of service "bad"') as string }),
    );
  });

  it('compiles a shared output schema once, and a second schema with the same $id on its own', async () => {
    const schema = { $id: 'https://example.test/answer', type: 'object', properties: { n: { type: 'integer' } } } as const;
    const copy = { $id: 'https://example.test/answer', type: 'object', properties: { n: { type: 'string' } } } as const;
    const first = serviceClient(fakeCaller({ n: 1 }), { name: 'a', outputSchema: schema });
    const again = serviceClient(fakeCaller({ n: 'one' }), { name: 'a', outputSchema: schema });
    // Ajv refuses a second schema object under a known $id: the copy gets its own, and checks by its own rules.
    const other = serviceClient(fakeCaller({ n: 'one' }), { name: 'b', outputSchema: copy });
    await expect(first.call('did:key:peer')).resolves.toEqual({ n: 1 });
    await expect(again.call('did:key:peer')).rejects.toMatchObject({ code: 'OUTPUT_INVALID', details: [{ path: '/n', message: 'must be integer' }] });
    await expect(other.call('did:key:peer')).resolves.toEqual({ n: 'one' });
  });
});
