import { Writable } from 'node:stream';
import { Agent } from './agent';
import type { Capability } from './capability';
import { SovError } from './errors/sovError';
import { waitFor } from './internal/waitFor';
import { createLogger } from './logger';
import type { RegistryClient } from './registryClient';
import type { AgentRecord, AgentRegistration } from './wire';

const quiet = createLogger({ silent: true });

/** An in-memory RegistryClient that records calls. */
function fakeRegistry(): RegistryClient & { calls: string[]; records: Map<string, AgentRegistration>; failRegister: Error | undefined } {
  const records = new Map<string, AgentRegistration>();
  const calls: string[] = [];
  const lease = () => ({ ttl: 30, expiresAt: new Date(Date.now() + 30_000).toISOString() });
  const client = {
    calls,
    records,
    failRegister: undefined as Error | undefined,
    register(reg: AgentRegistration) {
      calls.push('register');
      if (client.failRegister) return Promise.reject(client.failRegister);
      records.set(reg.id, reg);
      return Promise.resolve({ agent: reg as unknown as AgentRecord, lease: lease() });
    },
    heartbeat(id: string) {
      calls.push('heartbeat');
      if (!records.has(id)) return Promise.reject(new SovError('NOT_FOUND', `no ${id}`));
      return Promise.resolve(lease());
    },
    deregister(id: string) {
      calls.push('deregister');
      records.delete(id);
      return Promise.resolve();
    },
    get: () => Promise.reject(new SovError('NOT_FOUND', 'x')),
    search: () => Promise.resolve({ agents: [], total: 0, nextCursor: null }),
    updateMetadata: () => Promise.reject(new SovError('NOT_FOUND', 'x')),
    getStake: (agentId: string) => Promise.resolve({ agentId, stake: 0 }),
    submitFeedback: () => Promise.reject(new SovError('NOT_FOUND', 'x')),
    sendRequest: () => Promise.reject(new SovError('NOT_FOUND', 'x')),
    subscribe: () => {
      throw new SovError('UNAVAILABLE', 'no events in this fake');
    },
  };
  return client;
}

function recorder(name: string, log: string[], fail?: 'initialize' | 'start' | 'ready'): Capability<{ name: string }> {
  const step = (what: 'initialize' | 'start' | 'ready' | 'shutdown') => () => {
    log.push(`${name}.${what}`);
    if (what === fail) throw new Error(`${name} broke in ${what}`);
  };
  return {
    name,
    api: { name },
    initialize: step('initialize'),
    start: step('start'),
    ready: step('ready'),
    shutdown: step('shutdown'),
  };
}

describe('Agent lifecycle', () => {
  it('goes created → initialized → running → stopped, registering and deregistering', async () => {
    const registry = fakeRegistry();
    const agent = new Agent({ name: 'life', registry, logger: quiet, capabilities: ['demo'] });
    const states: string[] = [];
    agent.onStateChange((s) => states.push(s));
    expect(agent.state).toBe('created');
    await agent.start();
    expect(agent.state).toBe('running');
    expect(agent.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(registry.records.get(agent.id)?.endpoint).toBe(agent.url);
    expect(registry.records.get(agent.id)?.capabilities).toEqual(['demo']);
    const ready = await fetch(`${agent.url}/ready`);
    expect(ready.status).toBe(200);
    await agent.shutdown();
    expect(states).toEqual(['initializing', 'initialized', 'starting', 'running', 'stopping', 'stopped']);
    expect(registry.records.size).toBe(0);
    await expect(fetch(`${agent.url}/health`)).rejects.toThrow();
  });

  it('refreshes its registration when a contributor changes, one registration per burst', async () => {
    const registry = fakeRegistry();
    const agent = new Agent({ name: 'grows', registry, logger: quiet });
    const services: string[] = [];
    agent.use({
      name: 'late-services',
      api: {},
      initialize: (ctx) => ctx.contributeRegistration(() => ({ capabilities: [...services] })),
    });
    // Not registered yet: nothing is sent, the coming registration carries the change.
    await agent.refreshRegistration();
    expect(registry.calls).toEqual([]);
    await agent.start();
    expect(registry.records.get(agent.id)?.capabilities).toEqual([]);
    services.push('summarise', 'translate');
    await Promise.all([agent.refreshRegistration(), agent.refreshRegistration(), agent.refreshRegistration()]);
    expect(registry.calls.filter((c) => c === 'register')).toHaveLength(2);
    expect(registry.records.get(agent.id)?.capabilities).toEqual(['summarise', 'translate']);
    // A change made while a refresh is on its way gets a registration of its own.
    const first = agent.refreshRegistration();
    await Promise.resolve();
    await Promise.resolve();
    services.push('classify');
    const second = agent.refreshRegistration();
    await Promise.all([first, second]);
    expect(registry.calls.filter((c) => c === 'register')).toHaveLength(4);
    expect(registry.records.get(agent.id)?.capabilities).toEqual(['summarise', 'translate', 'classify']);
    await agent.shutdown();
    await agent.refreshRegistration();
    expect(registry.records.size).toBe(0);
  });

  it('rejects a refresh the registry refuses, and stays running and registered', async () => {
    const registry = fakeRegistry();
    const agent = new Agent({ name: 'refused', registry, logger: quiet });
    await agent.start();
    registry.failRegister = new SovError('UNAVAILABLE', 'registry busy');
    await expect(agent.refreshRegistration()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(agent.state).toBe('running');
    registry.failRegister = undefined;
    await expect(agent.refreshRegistration()).resolves.toBeUndefined();
    await agent.shutdown();
  });

  it('treats a second start and a second shutdown as the same call', async () => {
    const registry = fakeRegistry();
    const agent = new Agent({ name: 'twice', registry, logger: quiet });
    await Promise.all([agent.start(), agent.start()]);
    await agent.start();
    expect(registry.calls.filter((c) => c === 'register')).toHaveLength(1);
    await Promise.all([agent.shutdown(), agent.shutdown()]);
    await agent.shutdown();
    expect(registry.calls.filter((c) => c === 'deregister')).toHaveLength(1);
    await expect(agent.start()).rejects.toMatchObject({ code: 'LIFECYCLE' });
  });

  it('runs capability hooks in order and shutdown in reverse, returning each api from use()', async () => {
    const log: string[] = [];
    const agent = new Agent({ name: 'caps', logger: quiet });
    expect(agent.use(recorder('a', log)).name).toBe('a');
    agent.use(recorder('b', log));
    await agent.start();
    await agent.shutdown();
    expect(log).toEqual(['a.initialize', 'b.initialize', 'a.start', 'b.start', 'a.ready', 'b.ready', 'b.shutdown', 'a.shutdown']);
    expect(() => agent.use(recorder('c', log))).toThrow(/before start/);
  });

  it.each(['initialize', 'start', 'ready'] as const)('rolls everything back when a capability fails in %s', async (phase) => {
    const log: string[] = [];
    const registry = fakeRegistry();
    const agent = new Agent({ name: 'rollback', registry, logger: quiet });
    agent.use(recorder('good', log));
    agent.use(recorder('bad', log, phase));
    const error = await agent.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CAPABILITY_FAILED' });
    expect((error as Error).message).toContain(`Capability "bad" failed`);
    expect(agent.state).toBe('failed');
    expect(log).toContain('good.shutdown');
    // nothing half-started: not registered, not listening
    expect(registry.records.size).toBe(0);
    if (agent.url) await expect(fetch(`${agent.url}/health`)).rejects.toThrow();
  });

  it('rolls back and reports the registry error when registration fails', async () => {
    const log: string[] = [];
    const registry = fakeRegistry();
    registry.failRegister = new SovError('NETWORK_ERROR', 'registry down');
    const agent = new Agent({ name: 'noreg', registry, logger: quiet });
    agent.use(recorder('c', log));
    await expect(agent.start()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(log).toEqual(['c.initialize', 'c.start', 'c.shutdown']);
    await expect(fetch(`${agent.url}/health`)).rejects.toThrow();
    // the cause fixed, the same agent starts
    registry.failRegister = undefined;
    await agent.start();
    expect(agent.state).toBe('running');
    await agent.shutdown();
  });

  it('finishes requests in flight during shutdown and refuses new ones with 503 SHUTTING_DOWN', async () => {
    const agent = new Agent({ name: 'drain', logger: quiet, shutdownTimeoutMs: 5000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    agent.handle(async () => {
      entered();
      await gate;
      return { result: 'finished' };
    });
    await agent.start();
    const url = agent.url!;
    const slow = fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await inside;
    const stopping = agent.shutdown();
    await waitFor('the agent to be stopping', () => agent.state === 'stopping');
    const late = await fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(late.status).toBe(503);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('SHUTTING_DOWN');
    expect(agent.state).toBe('stopping');
    release();
    const res = await slow;
    expect(await res.json()).toEqual({ success: true, result: 'finished' });
    await stopping;
    expect(agent.state).toBe('stopped');
  });

  it('bounds shutdown by its timeout and aborts a handler that never finishes', async () => {
    const agent = new Agent({ name: 'stuck', logger: quiet, shutdownTimeoutMs: 300 });
    let aborted = false;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    agent.handle(
      (_req, ctx) =>
        new Promise((_, reject) => {
          entered();
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(ctx.signal.reason as Error);
          });
        }),
    );
    await agent.start();
    const hung = fetch(`${agent.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(
      (e: unknown) => e,
    );
    await inside;
    const t0 = Date.now();
    await agent.shutdown();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(aborted).toBe(true);
    expect(agent.state).toBe('stopped');
    await hung;
  });

  it('re-registers when a heartbeat finds the lease gone', async () => {
    const registry = fakeRegistry();
    const agent = new Agent({ name: 'beat', registry, logger: quiet, heartbeatIntervalMs: 20 });
    await agent.start();
    registry.records.clear();
    const again = new Promise((r) => agent.onRegistered(r));
    await again;
    expect(registry.records.has(agent.id)).toBe(true);
    await agent.shutdown();
  });

  it('writes JSON log lines carrying the agent id, and the request id inside a request', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const agent = new Agent({ name: 'logs', logStream: stream, agentId: 'agent-logs-1' });
    agent.handle((_req, ctx) => {
      ctx.logger.info('handling');
      return { result: 1 };
    });
    await agent.start();
    await fetch(`${agent.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
      body: '{}',
    });
    await agent.shutdown();
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((l) => l.agentId === 'agent-logs-1')).toBe(true);
    expect(lines.find((l) => l.message === 'handling')).toMatchObject({ requestId: 'req-42', level: 'info' });
  });
});

describe('Agent endpoint', () => {
  let agent: Agent;
  beforeAll(async () => {
    agent = new Agent({ name: 'edge', logger: quiet, bodyLimit: 2048 });
    agent.handle((req, ctx) => ({ result: { echo: req.params, caller: ctx.caller ?? null } }));
    await agent.start();
  });
  afterAll(() => agent.shutdown());

  const rpc = (body: string, type = 'application/json') =>
    fetch(`${agent.url}/rpc`, { method: 'POST', headers: { 'content-type': type }, body });

  it('dispatches a request to the handler', async () => {
    const res = await rpc(JSON.stringify({ service: 'echo', params: { a: 1 } }));
    expect(await res.json()).toEqual({ success: true, result: { echo: { a: 1 }, caller: null } });
  });

  it.each([
    ['malformed JSON', '{"a":', 'application/json', 400, 'INVALID_JSON'],
    ['a JSON array', '[1]', 'application/json', 400, 'INVALID_INPUT'],
    ['a body over the limit', JSON.stringify({ x: 'y'.repeat(4096) }), 'application/json', 413, 'PAYLOAD_TOO_LARGE'],
    ['a text body', 'hello', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('refuses %s with a clear code', async (_what, body, type, status, code) => {
    const res = await rpc(body, type);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ success: false, error: { code } });
  });

  it('answers an unknown route with 404 ROUTE_NOT_FOUND', async () => {
    const res = await fetch(`${agent.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, error: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('is healthy and ready without a registry', async () => {
    expect((await fetch(`${agent.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${agent.url}/ready`)).json()).toMatchObject({ success: true, status: 'ready' });
  });
});

describe('the signal a handler gets', () => {
  it('stays quiet for a normal request and aborts when the caller goes away', async () => {
    const agent = new Agent({ name: 'signals', logger: quiet });
    const seen: Array<{ aborted: boolean; code?: string }> = [];
    let entered!: () => void;
    let inside = new Promise<void>((r) => (entered = r));
    agent.handle(async (req, ctx) => {
      if ((req.params as { wait?: boolean } | undefined)?.wait) {
        entered();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        seen.push({ aborted: true, code: (ctx.signal.reason as SovError).code });
        return { result: 'late' };
      }
      await new Promise((r) => setTimeout(r, 5));
      seen.push({ aborted: ctx.signal.aborted });
      return { result: 'ok' };
    });
    await agent.start();
    const post = (params: unknown, signal?: AbortSignal) =>
      fetch(`${agent.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ params }), ...(signal ? { signal } : {}) });
    expect((await post({})).status).toBe(200);
    const gone = new AbortController();
    const pending = post({ wait: true }, gone.signal).catch((e: unknown) => e);
    await inside;
    gone.abort();
    await pending;
    inside = new Promise<void>((r) => (entered = r));
    await waitFor('the handler to see its caller go away', () => seen.length === 2);
    await agent.shutdown();
    expect(seen).toEqual([{ aborted: false }, { aborted: true, code: 'UNAVAILABLE' }]);
  });
});
