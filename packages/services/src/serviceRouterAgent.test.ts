import { Agent, HttpRegistryClient, createLogger, isRemoteError, type SovError } from '@sov/core';
import { Identity, RequestVerifier } from '@sov/crypto';
import { RegistryServer } from '@sov/registry';
import { ManualClock, waitFor } from '@sov/testing';
import { serviceRouter, type ServiceRouter } from './serviceRouter';

const quiet = createLogger({ silent: true });
const OPERATOR_TOKEN = 'operator-secret-for-tests';

const echoSchema = {
  type: 'object',
  properties: { text: { type: 'string', maxLength: 100 }, times: { type: 'integer', minimum: 1 } },
  required: ['text'],
  additionalProperties: false,
} as const;

/** The router's clock: real timers, a time the test moves (for the stake cache). */
const clock = new ManualClock({ overRealTime: true });

async function expectRemote(call: Promise<unknown>, code: string): Promise<SovError> {
  const error = await call.then(
    () => {
      throw new Error(`expected ${code}, got a result`);
    },
    (e: unknown) => e as SovError,
  );
  expect(isRemoteError(error)).toBe(true);
  expect(error.code).toBe(code);
  return error;
}

describe('serviceRouter on real agents through a real registry', () => {
  let registry: RegistryServer;
  let operator: HttpRegistryClient;
  let server: Agent;
  let router: ServiceRouter;
  let client: Agent;
  let anonymousOk: Agent;
  const release: Array<() => void> = [];

  beforeAll(async () => {
    registry = await RegistryServer.start({ verifier: new RequestVerifier(), operatorToken: OPERATOR_TOKEN, logger: quiet, rateLimit: false });
    operator = new HttpRegistryClient({ baseUrl: registry.url, operatorToken: OPERATOR_TOKEN });

    server = new Agent({ name: 'analyst', registryUrl: registry.url, identity: Identity.generate(), logger: quiet, capabilities: ['analysis'] });
    router = server.use(serviceRouter({ clock }));
    router
      .register<{ text: string; times?: number }, { text: string }>({
        name: 'echo',
        description: 'Repeats the text',
        inputSchema: echoSchema,
        outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        price: 1,
        handler: async ({ text, times = 1 }) => ({ text: text.repeat(times) }),
      })
      .register({
        name: 'premium',
        description: 'Only for staked callers',
        minStake: 100,
        price: 5,
        handler: async (_p, { caller }) => ({ servedTo: caller?.id }),
      })
      .register({
        name: 'bounded',
        maxConcurrency: 10,
        handler: () => new Promise((resolve) => release.push(() => resolve('done'))),
      })
      .register({ name: 'slow', timeoutMs: 50, handler: (_p, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))) })
      .register({ name: 'broken', handler: async () => ({ wrong: true }), outputSchema: { type: 'string' } });
    await server.start();

    client = new Agent({ name: 'caller', registryUrl: registry.url, identity: Identity.generate(), logger: quiet });
    await client.start();

    // An agent that lets anonymous calls through, so the router sees them.
    anonymousOk = new Agent({ name: 'open', registryUrl: registry.url, identity: Identity.generate(), logger: quiet, allowAnonymous: true });
    anonymousOk.use(serviceRouter()).register({ name: 'vip', minStake: 1, handler: async () => 'x' });
    await anonymousOk.start();
  });

  afterAll(async () => {
    await Promise.all([client?.shutdown(), server?.shutdown(), anonymousOk?.shutdown()]);
    await registry?.close();
  });

  it('calls a service by agent id, signed, and returns the typed result with a receipt', async () => {
    await expect(client.call<{ text: string }>(server.id, 'echo', { text: 'ab', times: 2 })).resolves.toEqual({ text: 'abab' });
    const outcome = await client.callDetailed(server.id, 'echo', { text: 'hi' });
    expect(outcome.agentId).toBe(server.id);
    expect(outcome.receipt).toMatchObject({ caller: client.id, callee: server.id, service: 'echo' });
    expect(outcome.executionTime).toEqual(expect.any(Number));
  });

  it('finds the agent by query: capability (a service name) and max price', async () => {
    await expect(client.call({ capability: 'echo', maxPrice: 2 }, 'echo', { text: 'q' })).resolves.toEqual({ text: 'q' });
    await expect(client.call({ capabilities: ['analysis', 'echo'], minReputation: 0.1 }, 'echo', { text: 'r' })).resolves.toEqual({ text: 'r' });
    await expect(client.call({ capability: 'echo', maxPrice: 0 }, 'echo', { text: 'q' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('publishes the services in the registry record, so search filters by service and price', async () => {
    const record = await operator.get(server.id);
    expect(record.services).toEqual([
      { name: 'echo', description: 'Repeats the text', price: 1, requiresStake: false, minStake: 0 },
      { name: 'premium', description: 'Only for staked callers', price: 5, requiresStake: true, minStake: 100 },
      { name: 'bounded', requiresStake: false, minStake: 0 },
      { name: 'slow', requiresStake: false, minStake: 0 },
      { name: 'broken', requiresStake: false, minStake: 0 },
    ]);
    expect(record.capabilities).toEqual(expect.arrayContaining(['analysis', 'echo', 'premium']));
    const { agents } = await operator.search({ capabilities: ['premium'], maxPrice: 10 });
    expect(agents.map((a) => a.id)).toEqual([server.id]);
  });

  it('serves the catalog at GET /catalog, unsigned', async () => {
    const res = await fetch(`${server.url}/catalog`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { success: boolean; agentId: string; services: Array<{ name: string }> };
    expect(body.success).toBe(true);
    expect(body.agentId).toBe(server.id);
    expect(body.services.map((s) => s.name)).toEqual(['echo', 'premium', 'bounded', 'slow', 'broken']);
    expect(body.services[0]).toMatchObject({ inputSchema: echoSchema, price: 1, metrics: { requests: expect.any(Number) } });
  });

  it('throws typed errors carrying the remote code', async () => {
    const invalid = await expectRemote(client.call(server.id, 'echo', { text: 5, extra: 1 }), 'INVALID_INPUT');
    expect(invalid.details).toEqual([
      { path: '/extra', message: 'is not allowed' },
      { path: '/text', message: 'must be string' },
    ]);
    await expectRemote(client.call(server.id, 'nope', {}), 'SERVICE_NOT_FOUND');
    await expectRemote(client.call(server.id, '', {}), 'SERVICE_NAME_MISSING');
    await expectRemote(client.call(server.id, 'broken', {}), 'OUTPUT_INVALID');
    const timeout = await expectRemote(client.call(server.id, 'slow', {}), 'TIMEOUT');
    expect(timeout.message).toContain('Service "slow" timed out after 50 ms');
  });

  it('serves 100 concurrent calls', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => client.call<{ text: string }>(server.id, 'echo', { text: `m${i}` })));
    expect(replies.map((r) => r.text)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
  });

  it('refuses calls beyond the concurrency limit with TOO_MANY_IN_FLIGHT, 100 at once', async () => {
    const calls = Array.from({ length: 100 }, () =>
      client.call(server.id, 'bounded', {}).then(
        (r) => r,
        (e: SovError) => e.code,
      ),
    );
    // Wait until the other 90 have been refused, then let the 10 in flight finish.
    const refused = calls.map((c) => c.then((r) => r === 'TOO_MANY_IN_FLIGHT'));
    let count = 0;
    await new Promise<void>((resolve) => refused.forEach((r) => void r.then((yes) => yes && ++count === 90 && resolve())));
    expect(release).toHaveLength(10);
    release.splice(0).forEach((open) => open());
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'done')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'TOO_MANY_IN_FLIGHT')).toHaveLength(90);
  });

  it('gates on the verified caller stake from the registry: refused before credit, served after', async () => {
    const before = await expectRemote(client.call(server.id, 'premium', {}), 'INSUFFICIENT_STAKE');
    expect(before.details).toEqual({ required: 100, current: 0 });
    await operator.creditStake(client.id, 150);
    // Still cached for the TTL (5 s) ...
    await expectRemote(client.call(server.id, 'premium', {}), 'INSUFFICIENT_STAKE');
    clock.advance(5000);
    // ... then read again.
    await expect(client.call(server.id, 'premium', {})).resolves.toEqual({ servedTo: client.id });
  });

  it('refuses an anonymous caller of a stake-gated service with UNAUTHORIZED', async () => {
    const res = await fetch(`${anonymousOk.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'vip', client_id: client.id }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { success: boolean; error: { code: string; message: string } };
    expect(body).toEqual({ success: false, error: { code: 'UNAUTHORIZED', message: expect.stringContaining('sign the request') } });
  });

  it('exports per-service metrics in GET /metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^# TYPE sov_service_requests_total counter$/m);
    expect(text).toMatch(/^sov_service_requests_total\{service="echo"\} \d+$/m);
    expect(text).toMatch(/^sov_service_successes_total\{service="echo"\} \d+$/m);
    expect(text).toMatch(/^sov_service_failures_total\{service="echo",code="INVALID_INPUT"\} 1$/m);
    expect(text).toMatch(/^sov_service_failures_total\{service="bounded",code="TOO_MANY_IN_FLIGHT"\} 90$/m);
    expect(text).toMatch(/^sov_service_in_flight\{service="echo"\} 0$/m);
    expect(text).toMatch(/^# TYPE sov_service_duration_seconds histogram$/m);
    expect(text).toMatch(/^sov_service_duration_seconds_bucket\{service="echo",le="0.005"\} \d+$/m);
    expect(text).toMatch(/^sov_service_duration_seconds_bucket\{service="echo",le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^sov_service_duration_seconds_count\{service="echo"\} \d+$/m);
  });

  it('publishes a service registered while the agent runs, without waiting for a new lease', async () => {
    const before = await operator.search({ capabilities: ['translate'] });
    expect(before.agents).toEqual([]);
    router.register({ name: 'translate', description: 'Added at run time', price: 3, handler: async () => ({ ok: true }) });
    // The router sends the record on its own; poll the registry as a searching peer would.
    const found = await waitFor('the registry to list the translate service', async () => {
      const ids = (await operator.search({ capabilities: ['translate'], maxPrice: 5 })).agents.map((a) => a.id);
      return ids.length > 0 && ids;
    });
    expect(found).toEqual([server.id]);
    const record = await operator.get(server.id);
    expect(record.services).toContainEqual({ name: 'translate', description: 'Added at run time', price: 3, requiresStake: false, minStake: 0 });
    await expect(client.call({ capability: 'translate' }, 'translate', {})).resolves.toEqual({ ok: true });
  });
});
