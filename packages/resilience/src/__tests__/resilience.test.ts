import { isCancelledError, isTimeoutError, type Agent, type AgentRecord } from '@sov/core';
import { agentRecord, FaultProxy, FaultyPeer, waitFor } from '@sov/testing';
import { isCircuitOpenError } from '../errors/circuitOpenError';
import { ErrorSeverity } from '../errorHandler';
import { resilience, type ResilienceOptions } from '../resilience';
import { FakeRegistry } from './fakeRegistry';
import { postJson, quietAgent } from './helpers';

const cleanups: Array<() => Promise<unknown>> = [];
const agents: Agent[] = [];
afterEach(async () => {
  // Agents first, while the servers they deregister from are still up.
  await Promise.all(agents.splice(0).map((a) => a.shutdown().catch(() => undefined)));
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function track<T extends { close(): Promise<void> }>(x: T): T {
  cleanups.push(() => x.close());
  return x;
}

function agentWith(options: ResilienceOptions, agentOptions: Parameters<typeof quietAgent>[0] = {}) {
  const agent = quietAgent(agentOptions);
  const api = agent.use(resilience({ health: false, ...options }));
  agents.push(agent);
  return { agent, api };
}

const fastRegistryRetry = { maxAttempts: 30, initialDelay: 20, maxDelay: 100, jitter: 0 };

describe('resilience capability: the registry', () => {
  it('starts when the registry arrives late: registration is retried with backoff', async () => {
    const proxy = track(await FaultProxy.start()); // no target yet: connections are dropped
    const { agent } = agentWith({ registryRetry: fastRegistryRetry }, { registryUrl: proxy.url });
    const starting = agent.start();
    await waitFor('the proxy to see 3 registration attempts', () => proxy.requests >= 3);
    expect(agent.state).toBe('starting');
    const registry = track(await FakeRegistry.start());
    proxy.setTarget(registry.url);
    await starting;
    expect(agent.state).toBe('running');
    expect(agent.isRegistered).toBe(true);
    expect(registry.registrations).toBe(1);
  });

  it('without it, the same late registry fails the start (control)', async () => {
    const proxy = track(await FaultProxy.start());
    const agent = quietAgent({ registryUrl: proxy.url });
    agents.push(agent);
    await expect(agent.start()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(agent.state).toBe('failed');
  });

  it('registers again when a heartbeat says the lease is gone', async () => {
    const registry = track(await FakeRegistry.start());
    const { agent } = agentWith({ registryRetry: fastRegistryRetry }, { registryUrl: registry.url, heartbeatIntervalMs: 30 });
    const leases: unknown[] = [];
    agent.onRegistered((lease) => leases.push(lease));
    await agent.start();
    expect(registry.registrations).toBe(1);
    registry.forget(agent.id);
    await waitFor('the second registration', () => registry.registrations === 2);
    await waitFor('the agent to be registered', () => agent.isRegistered && registry.agents.has(agent.id));
    expect(leases).toHaveLength(2);
  });

  it('re-registration survives a registry that blinks at that moment', async () => {
    const registry = track(await FakeRegistry.start());
    const proxy = track(await FaultProxy.start({ target: registry.url }));
    const { agent } = agentWith({ registryRetry: fastRegistryRetry }, { registryUrl: proxy.url, heartbeatIntervalMs: 30 });
    await agent.start();
    // The lease is lost while the registry answers 503 three times: heartbeats and the re-registration meet them.
    proxy.inject({ type: 'error', status: 503 }, { times: 3 });
    registry.forget(agent.id);
    await waitFor('the second registration', () => registry.registrations === 2);
    await waitFor('the agent to be registered', () => agent.isRegistered);
    expect(registry.agents.has(agent.id)).toBe(true);
  });
});

describe('resilience capability: peer calls', () => {
  const peerOptions: ResilienceOptions = {
    timeoutMs: 200,
    retry: { maxAttempts: 3, initialDelay: 10, jitter: 0 },
    breaker: { failureThreshold: 3, recoveryTimeout: 60_000 },
  };

  it('retries transient errors and dropped connections', async () => {
    const peer = track(await FaultyPeer.start());
    const { agent, api } = agentWith(peerOptions);
    await agent.start();
    peer.inject({ type: 'error', status: 503, code: 'UNAVAILABLE' }, { times: 1 }).inject({ type: 'drop' }, { times: 1 });
    expect(api.lastSuccessAt).toBeUndefined();
    await expect(api.callPeer(peer.url, { service: 'echo', params: 'hi' })).resolves.toMatchObject({ success: true, result: 'hi' });
    expect(peer.requests).toBe(3);
    expect(api.lastSuccessAt).toBeDefined();
  });

  it('does not retry a 4xx answer', async () => {
    const peer = track(await FaultyPeer.start());
    const { agent, api } = agentWith(peerOptions);
    await agent.start();
    peer.inject({ type: 'error', status: 400, code: 'INVALID_INPUT' });
    await expect(api.callPeer(peer.url, { service: 'echo' })).rejects.toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 });
    expect(peer.requests).toBe(1);
    expect(api.breakerFor(peer.url).state).toBe('closed');
  });

  it('a hung peer times out, then its own breaker opens; a healthy peer is not affected', async () => {
    const hung = track(await FaultyPeer.start());
    const healthy = track(await FaultyPeer.start());
    hung.inject({ type: 'hang' });
    const { agent, api } = agentWith(peerOptions);
    const states: string[] = [];
    api.onPeerStateChange((endpoint, state) => endpoint === hung.url && states.push(state));
    await agent.start();

    const started = Date.now();
    const [hungResult, healthyResult] = await Promise.allSettled([
      api.callPeer(hung.url, { service: 'echo' }),
      api.callPeer(healthy.url, { service: 'echo', params: 1 }),
    ]);
    expect(healthyResult).toMatchObject({ status: 'fulfilled', value: { result: 1 } });
    expect(hungResult.status).toBe('rejected');
    const reason = (hungResult as PromiseRejectedResult).reason;
    // Three attempts of 200 ms each: the third failure opens the breaker.
    expect(isTimeoutError(reason)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(hung.requests).toBe(3);
    expect(api.breakerFor(hung.url).state).toBe('open');
    expect(states).toEqual(['open']);

    const t0 = Date.now();
    const refused = await api.callPeer(hung.url, { service: 'echo' }).catch((e: unknown) => e);
    expect(isCircuitOpenError(refused)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(300); // no timeout waited: three attempts would take 600 ms
    expect(hung.requests).toBe(3);
    await expect(api.callPeer(healthy.url, { service: 'echo', params: 2 })).resolves.toMatchObject({ result: 2 });
    expect(api.breakerFor(`${healthy.url}/`).state).toBe('closed');
  });

  it("hands the call's options on to the wrappers inside it (receipt, cache opt-out, a time budget)", async () => {
    const peer = track(await FaultyPeer.start());
    const agent = quietAgent({});
    const seen: Array<{ receipt: unknown; cache: unknown; timeoutMs: unknown }> = [];
    // Added first, so it sits inside the resilience policies.
    agent.use({ name: 'inner', api: undefined, initialize: (ctx) => ctx.wrapPeerCalls((next) => (call) => (seen.push({ receipt: call.receipt, cache: call.cache, timeoutMs: call.timeoutMs }), next(call))) });
    agent.use(resilience({ health: false, ...peerOptions }));
    agents.push(agent);
    await agent.start();
    await agent.call(peer.url, 'echo', 'a', { cache: false });
    await agent.callDetailed(peer.url, 'echo', 'b');
    expect(seen).toEqual([
      { receipt: false, cache: false, timeoutMs: 200 },
      { receipt: true, cache: undefined, timeoutMs: 200 },
    ]);
  });

  it('agent.call goes through the same per-peer policies', async () => {
    const peer = track(await FaultyPeer.start());
    const { agent, api } = agentWith(peerOptions);
    await agent.start();
    peer.inject({ type: 'error', status: 503 }, { times: 2 });
    await expect(agent.call(peer.url, 'echo', 'retried')).resolves.toBe('retried');
    expect(peer.requests).toBe(3);
    peer.inject({ type: 'drop' });
    await expect(agent.call(peer.url, 'echo', 'x')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(api.breakerFor(peer.url).state).toBe('open');
    await expect(agent.call(peer.url, 'echo', 'x')).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
  });

  it('a caller can cancel a peer call', async () => {
    const peer = track(await FaultyPeer.start());
    peer.inject({ type: 'latency', ms: 5_000 });
    const { agent, api } = agentWith({ ...peerOptions, timeoutMs: 10_000 });
    await agent.start();
    const controller = new AbortController();
    const call = api.callPeer(peer.url, { service: 'echo' }, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor('the peer to get the request', () => peer.requests === 1);
    controller.abort(new Error('user cancelled'));
    const error = await call;
    expect(error).toMatchObject({ code: 'CANCELLED', message: expect.stringContaining('user cancelled') as unknown });
    expect(isCancelledError(error)).toBe(true);
    // Not retried, and not held against the peer.
    expect(peer.requests).toBe(1);
    expect(api.breakerFor(peer.url).state).toBe('closed');
  });

  it('agent.call with an aborted signal is CANCELLED: not retried, not failed over, the breaker untouched', async () => {
    const slow = track(await FaultyPeer.start());
    slow.inject({ type: 'hang' });
    const second = track(await FaultyPeer.start());
    const registry = track(await FakeRegistry.start());
    const { agent, api } = agentWith({ ...peerOptions, timeoutMs: 10_000, breaker: { failureThreshold: 1 } }, { registryUrl: registry.url });
    await agent.start();
    const listed = (id: string, endpoint: string): AgentRecord => agentRecord({ id, endpoint, capabilities: ['echo'] });
    registry.agents.set('slow', listed('slow', slow.url));
    registry.agents.set('second', listed('second', second.url));
    const controller = new AbortController();
    const call = agent.call({ capability: 'echo' }, 'echo', 'x', { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor('the slow peer to get the request', () => slow.requests === 1);
    controller.abort();
    expect(await call).toMatchObject({ code: 'CANCELLED' });
    expect(slow.requests).toBe(1);
    expect(second.requests).toBe(0);
    expect(api.breakerFor(slow.url).state).toBe('closed');
  });
});

describe('resilience capability: the endpoint', () => {
  it('answers a flood with 429 and Retry-After', async () => {
    const { agent } = agentWith({ rateLimit: { capacity: 2, refillPerSecond: 1 } });
    agent.handle(() => ({ result: 'ok' }));
    await agent.start();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await postJson(`${agent.url}/rpc`, { service: 'x' }));
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 429]);
    expect(statuses[2]!.headers.get('retry-after')).toBe('1');
    expect(statuses[2]!.body).toMatchObject({ success: false, error: { code: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } } });
    expect((statuses[2]!.body as { error: { details: { retryAfterMs: number } } }).error.details.retryAfterMs).toBeLessThanOrEqual(1000);
  });

  it('/health and /ready reflect the health monitor, with details; an unhealthy state calls the handler', async () => {
    const registry = track(await FakeRegistry.start());
    const agent = quietAgent({ registryUrl: registry.url });
    const api = agent.use(resilience({ health: { intervalMs: 60_000, maxIdleMs: 60_000 } }));
    agents.push(agent);
    const unhealthy = jest.fn();
    api.health.onUnhealthy(unhealthy);
    await agent.start();
    await api.health.check();

    const health = await (await fetch(`${agent.url}/health`)).json();
    expect(health).toMatchObject({ success: true, status: 'ok', checks: { eventLoopLag: { ok: true }, memory: { ok: true } } });
    const ready = (await (await fetch(`${agent.url}/ready`)).json()) as { checks: { queueDepth: { detail: { detail: unknown } } } };
    expect(ready).toMatchObject({
      status: 'ready',
      checks: { registryReachable: { ok: true }, queueDepth: { ok: true }, lastSuccess: { ok: true }, registry: { ok: true } },
    });
    expect(ready.checks.queueDepth.detail.detail).toMatchObject({ depth: expect.any(Number), max: 1000 });

    let diskOk = true;
    api.health.addCheck({ name: 'disk', affects: 'health', run: () => ({ ok: diskOk, detail: diskOk ? 'ok' : 'full' }) });
    diskOk = false;
    await api.health.check();
    const res = await fetch(`${agent.url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', checks: { disk: { ok: false, detail: { detail: 'full' } } } });
    expect(unhealthy).toHaveBeenCalledTimes(1);
  });
});

describe('resilience capability: shutting down', () => {
  it('on shutdown stops taking requests, finishes those in flight, deregisters', async () => {
    const registry = track(await FakeRegistry.start());
    const { agent } = agentWith({ registryRetry: fastRegistryRetry }, { registryUrl: registry.url, shutdownTimeoutMs: 5000 });
    let started = 0;
    agent.handle(async () => {
      started++;
      await new Promise((r) => setTimeout(r, 300));
      return { result: 'finished' };
    });
    await agent.start();
    const url = agent.url!;
    const inFlight = postJson(`${url}/rpc`, { service: 'slow' });
    await waitFor('the handler to start', () => started === 1);
    const stopping = agent.shutdown('test');
    const late = await postJson(`${url}/rpc`, { service: 'slow' });
    expect(late.status).toBe(503);
    expect(late.body).toMatchObject({ error: { code: 'SHUTTING_DOWN' } });
    await expect(inFlight).resolves.toMatchObject({ status: 200, body: { result: 'finished' } });
    await stopping;
    expect(agent.state).toBe('stopped');
    expect(started).toBe(1);
    expect(registry.deregistrations).toBe(1);
    expect(registry.agents.has(agent.id)).toBe(false);
  });

  it('a request still running at the shutdown deadline is aborted', async () => {
    const { agent } = agentWith({}, { shutdownTimeoutMs: 200 });
    let aborted = false;
    let entered = false;
    agent.handle(
      (_req, ctx) =>
        new Promise((_, reject) => {
          entered = true;
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(ctx.signal.reason as Error);
          });
        }),
    );
    await agent.start();
    const call = postJson(`${agent.url}/rpc`, {}).catch((e: unknown) => e);
    await waitFor('the request to reach its handler', () => entered);
    const t0 = Date.now();
    await agent.shutdown();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(aborted).toBe(true);
    await call;
  });

  it('shuts down gracefully on a signal when handleSignals is set', async () => {
    const { agent } = agentWith({ handleSignals: { signals: ['SIGUSR2'], exit: false } });
    await agent.start();
    process.emit('SIGUSR2', 'SIGUSR2');
    await waitFor('the agent to stop', () => agent.state === 'stopped');
  });

  it('a CRITICAL error alerts and starts a graceful shutdown', async () => {
    class JournalError extends Error {}
    const alerts: string[] = [];
    const { agent, api } = agentWith({ errors: { onCritical: (e) => void alerts.push(e.message) } });
    api.errors.registerHandler(JournalError, { severity: ErrorSeverity.CRITICAL });
    agent.handle(async () => {
      const outcome = await api.errors.handle(new JournalError('cannot write the journal'));
      return { result: outcome.action };
    });
    await agent.start();
    const reply = await postJson(`${agent.url}/rpc`, {});
    expect(reply.body).toMatchObject({ result: 'shutdown' });
    await waitFor('the agent to stop', () => agent.state === 'stopped');
    expect(alerts).toEqual(['cannot write the journal']);
  });
});
