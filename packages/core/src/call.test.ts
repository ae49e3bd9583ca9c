import { Agent } from './agent';
import { isCancelledError } from './errors/cancelledError';
import { SovError } from './errors/sovError';
import { waitFor } from './internal/waitFor';
import { agentRecord } from './internal/agentRecord';
import { createLogger } from './logger';
import type { RegistryClient } from './registryClient';
import type { AgentRecord, AgentRegistration } from './wire';

const quiet = createLogger({ silent: true });

/** A registry that knows fixed records, ranked as given. */
function staticRegistry(records: () => AgentRecord[]): RegistryClient {
  const reject = () => Promise.reject(new SovError('NOT_FOUND', 'x'));
  return {
    register: (r: AgentRegistration) =>
      Promise.resolve({ agent: r as unknown as AgentRecord, lease: { ttl: 30, expiresAt: new Date(Date.now() + 30_000).toISOString() } }),
    heartbeat: () => Promise.resolve({ ttl: 30, expiresAt: new Date(Date.now() + 30_000).toISOString() }),
    deregister: () => Promise.resolve(),
    get: (id) => {
      const r = records().find((a) => a.id === id);
      return r ? Promise.resolve(r) : Promise.reject(new SovError('NOT_FOUND', `No agent registered with id ${id}`));
    },
    search: (q) => {
      const agents = records().filter((a) => (q.capabilities ?? []).every((c) => a.capabilities.includes(c)));
      return Promise.resolve({ agents, total: agents.length, nextCursor: null });
    },
    updateMetadata: reject,
    getStake: (agentId) => Promise.resolve({ agentId, stake: 0 }),
    submitFeedback: reject,
    sendRequest: reject,
    subscribe: () => {
      throw new SovError('UNAVAILABLE', 'no events');
    },
  };
}

const record = (id: string, endpoint: string, extra: Partial<AgentRecord> = {}): AgentRecord =>
  agentRecord({ id, endpoint, capabilities: ['math'], services: [{ name: 'double', price: 2 }], ...extra });

describe('agent.call', () => {
  let worker: Agent;
  let caller: Agent;
  let records: AgentRecord[] = [];
  beforeAll(async () => {
    worker = new Agent({ name: 'worker', agentId: 'worker', logger: quiet });
    worker.handle((req) => {
      const n = (req.params as { n?: unknown } | undefined)?.n;
      if (typeof n !== 'number') throw new SovError('INVALID_INPUT', 'params.n must be a number');
      return { result: n * 2, service: req.service, execution_time: 1 };
    });
    await worker.start();
    caller = new Agent({ name: 'caller', agentId: 'caller', logger: quiet, registry: staticRegistry(() => records) });
    await caller.start();
  });
  afterAll(async () => {
    await caller.shutdown();
    await worker.shutdown();
  });

  it('calls by agent id, by URL and by query', async () => {
    records = [record('worker', worker.url!)];
    expect(await caller.call('worker', 'double', { n: 2 })).toBe(4);
    expect(await caller.call(worker.url!, 'double', { n: 3 })).toBe(6);
    const outcome = await caller.callDetailed({ capability: 'math', maxPrice: 5 }, 'double', { n: 4 });
    expect(outcome).toMatchObject({ result: 8, agentId: 'worker', endpoint: worker.url, executionTime: 1 });
  });

  it('throws the remote code for a refused call', async () => {
    records = [record('worker', worker.url!)];
    await expect(caller.call('worker', 'double', { n: 'two' })).rejects.toMatchObject({ code: 'INVALID_INPUT', status: 400 });
  });

  it('fails over to the next match when the best one is unreachable, but not for a named agent', async () => {
    records = [record('dead', 'http://127.0.0.1:1', { reputation: 0.9 }), record('worker', worker.url!)];
    expect(await caller.callDetailed({ capability: 'math' }, 'double', { n: 5 })).toMatchObject({ result: 10, agentId: 'worker' });
    await expect(caller.call('dead', 'double', { n: 5 })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it("never fails over on the caller's own abort: CANCELLED, and the next match is not called", async () => {
    const served: string[] = [];
    const held: Array<() => void> = [];
    const slow = new Agent({ name: 'slow', agentId: 'slow', logger: quiet });
    slow.handle(async (req) => {
      served.push('slow');
      await new Promise<void>((r) => held.push(r));
      return { result: req.params };
    });
    const spare = new Agent({ name: 'spare', agentId: 'spare', logger: quiet });
    spare.handle((req) => {
      served.push('spare');
      return { result: req.params };
    });
    await slow.start();
    await spare.start();
    try {
      records = [record('slow', slow.url!, { reputation: 0.9 }), record('spare', spare.url!)];
      const controller = new AbortController();
      const call = caller.call({ capability: 'math' }, 'double', { n: 1 }, { signal: controller.signal }).catch((e: unknown) => e);
      await waitFor('the slow peer to be called', () => served.length > 0, { intervalMs: 0 });
      controller.abort();
      const error = await call;
      expect(error).toMatchObject({ code: 'CANCELLED', status: 499 });
      expect(isCancelledError(error)).toBe(true);
      expect(served).toEqual(['slow']);

      // A timeout, by contrast, is the peer's fault: the next match serves the call.
      const outcome = await caller.callDetailed({ capability: 'math' }, 'double', { n: 2 }, { timeoutMs: 300 });
      expect(outcome).toMatchObject({ agentId: 'spare', result: { n: 2 } });
      expect(served).toEqual(['slow', 'slow', 'spare']);
    } finally {
      for (const r of held) r();
      await slow.shutdown();
      await spare.shutdown();
    }
  });

  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    records = [record('worker', worker.url!)];
    const controller = new AbortController();
    controller.abort();
    const before = await (await fetch(`${worker.url}/metrics`)).text();
    await expect(caller.call('worker', 'double', { n: 1 }, { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(caller.call({ capability: 'math' }, 'double', { n: 1 }, { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    const after = await (await fetch(`${worker.url}/metrics`)).text();
    const served = (text: string) => text.split('\n').filter((l) => l.startsWith('sov_agent_requests_total{route="/rpc"')).join('\n');
    expect(served(after)).toBe(served(before));
  });

  it('says which query found nobody, and skips agents above the price', async () => {
    records = [record('worker', worker.url!, { services: [{ name: 'double', price: 9 }] })];
    await expect(caller.call({ capability: 'math', maxPrice: 5 }, 'double', { n: 1 })).rejects.toThrow(/No agent matches .*"maxPrice":5/);
    await expect(caller.call({ capability: 'poetry' }, 'double', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses to call before start', async () => {
    const idle = new Agent({ name: 'idle', logger: quiet });
    await expect(idle.call('x', 'y')).rejects.toMatchObject({ code: 'LIFECYCLE' });
  });

  it('runs calls through wrappers that capabilities add', async () => {
    const seen: string[] = [];
    const wrapped = new Agent({ name: 'wrapped', logger: quiet });
    wrapped.use({
      name: 'tracer',
      api: undefined,
      initialize: (ctx) =>
        ctx.wrapPeerCalls((next) => async (call) => {
          seen.push(`${call.agentId}:${String(call.request.service)}`);
          return next(call);
        }),
    });
    await wrapped.start();
    expect(await wrapped.call(worker.url!, 'double', { n: 1 })).toBe(2);
    expect(seen).toEqual([`${worker.url}:double`]);
    await wrapped.shutdown();
  });

  it('serves Prometheus metrics that count requests by outcome', async () => {
    records = [record('worker', worker.url!)];
    await caller.call('worker', 'double', { n: 1 });
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    expect(text).toMatch(/sov_agent_requests_total\{route="\/rpc",code="ok"\} \d+/);
    expect(text).toMatch(/sov_agent_requests_total\{route="\/rpc",code="INVALID_INPUT"\} \d+/);
  });
});
