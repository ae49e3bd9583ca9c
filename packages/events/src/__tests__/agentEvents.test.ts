import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, HttpRegistryClient, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { TestRegistry, waitFor } from '@sov/testing';
import { events } from '../events';
import { EventDrivenAgent } from '../eventDrivenAgent';
import type { AgentEvent, RegistryEventData, RequestCompletedData, RequestFailedData, RequestReceivedData } from '../types';

const quiet = createLogger({ silent: true });

describe('events on real agents and a real registry', () => {
  let registry: TestRegistry;
  const running: Agent[] = [];
  const dirs: string[] = [];

  const agent = (name: string, identity = Identity.generate()) => {
    const a = new Agent({ name, registryUrl: registry.url, identity, logger: quiet, port: 0, shutdownTimeoutMs: 3000 });
    running.push(a);
    return a;
  };
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sov-events-agent-'));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    registry = await TestRegistry.start();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((a) => a.shutdown()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  afterAll(() => registry.stop());

  it('brings peer_joined, stake_changed and peer_left into the queue with the same shape as emitted events', async () => {
    const watcher = agent('watcher');
    const bus = watcher.use(events({ registry: { types: ['peer_joined', 'peer_left', 'stake_changed'] } }));
    const seen: Array<AgentEvent<string, RegistryEventData>> = [];
    for (const type of ['peer_joined', 'peer_left', 'stake_changed'] as const) bus.on(type, async (e) => void seen.push(e));
    await watcher.start();

    const peer = agent('uppercaser');
    await peer.start();
    await waitFor('peer_joined for the peer', () => seen.some((e) => e.type === 'peer_joined' && e.data.peer_id === peer.id), { timeoutMs: 8000 });
    await registry.creditStake(peer.id, 250);
    await waitFor('stake_changed', () => seen.some((e) => e.type === 'stake_changed'), { timeoutMs: 8000 });
    await peer.shutdown();
    await waitFor('peer_left', () => seen.some((e) => e.type === 'peer_left'), { timeoutMs: 8000 });

    const joined = seen.find((e) => e.type === 'peer_joined' && e.data.peer_id === peer.id)!;
    expect(joined).toMatchObject({ source: 'registry', key: peer.id, data: { peer_id: peer.id, registryEventId: expect.any(String) } });
    expect(joined.id).toBe(`registry:${joined.data.registryEventId}`);
    expect(new Date(joined.timestamp).toISOString()).toBe(joined.timestamp);
    const stake = seen.find((e) => e.type === 'stake_changed')!;
    expect(stake.data).toMatchObject({ peer_id: peer.id, stake: 250 });
    // One peer's events keep their order.
    const mine = seen.filter((e) => e.data.peer_id === peer.id).map((e) => e.type);
    expect(mine).toEqual(['peer_joined', 'stake_changed', 'peer_left']);
  });

  it('a new_request reaches only the agent it names; the sender is verified; bad targets are refused', async () => {
    const alice = agent('alice');
    const bob = agent('bob');
    const aliceEvents = alice.use(events({ registry: { types: ['new_request'] } }));
    const bobEvents = bob.use(events({ registry: { types: ['new_request'] } }));
    const toAlice: Array<AgentEvent<string, RegistryEventData>> = [];
    const toBob: Array<AgentEvent<string, RegistryEventData>> = [];
    aliceEvents.on('new_request', async (e) => void toAlice.push(e));
    bobEvents.on('new_request', async (e) => void toBob.push(e));
    const sender = agent('sender');
    await Promise.all([alice.start(), bob.start(), sender.start()]);

    const { requestId } = await sender.registry!.sendRequest(alice.id, { service: 'summarise', params: { text: 'hello' } });
    await waitFor('the event for alice', () => toAlice.length === 1, { timeoutMs: 8000 });
    await sender.registry!.sendRequest(bob.id, { service: 'count' });
    await waitFor('the event for bob', () => toBob.length === 1, { timeoutMs: 8000 });
    expect(toAlice[0]!.data).toMatchObject({ peer_id: alice.id, request_id: requestId, from: sender.id, service: 'summarise', params: { text: 'hello' } });
    expect(toBob.map((e) => e.data.peer_id)).toEqual([bob.id]);
    expect(toAlice).toHaveLength(1);

    await expect(sender.registry!.sendRequest('did:key:z6MkNobodyHere', { service: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const anonymous = new HttpRegistryClient({ baseUrl: registry.url });
    await expect(anonymous.sendRequest(alice.id, { service: 'x' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(toAlice).toHaveLength(1);
  });

  it('emits request_received, then request_completed or request_failed, around served calls', async () => {
    const server = agent('server');
    const router = server.use(serviceRouter());
    const bus = server.use(events());
    router.register({
      name: 'shout',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
      handler: async ({ text }: { text: string }) => ({ text: text.toUpperCase() }),
    });
    const received: RequestReceivedData[] = [];
    const completed: RequestCompletedData[] = [];
    const failed: RequestFailedData[] = [];
    const order: string[] = [];
    bus.on('request_received', async (e) => void (received.push(e.data), order.push(`received ${e.data.requestId}`)));
    bus.on('request_completed', async (e) => void (completed.push(e.data), order.push(`completed ${e.data.requestId}`)));
    bus.on('request_failed', async (e) => void (failed.push(e.data), order.push(`failed ${e.data.requestId}`)));
    const caller = agent('caller');
    await Promise.all([server.start(), caller.start()]);

    await expect(caller.call(server.id, 'shout', { text: 'hi' })).resolves.toEqual({ text: 'HI' });
    await expect(caller.call(server.id, 'shout', { text: 42 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await waitFor('one completed and one failed request', () => completed.length === 1 && failed.length === 1, { timeoutMs: 8000 });
    expect(received).toHaveLength(2);
    expect(received[0]).toMatchObject({ service: 'shout', params: { text: 'hi' }, caller: caller.id });
    expect(completed[0]).toMatchObject({ requestId: received[0]!.requestId, service: 'shout', result: { text: 'HI' }, caller: caller.id, durationMs: expect.any(Number) });
    expect(failed[0]).toMatchObject({ requestId: received[1]!.requestId, error: { code: 'INVALID_INPUT' } });
    // Per request: received before its outcome.
    for (const r of received) expect(order.indexOf(`received ${r.requestId}`)).toBeLessThan(Math.max(order.indexOf(`completed ${r.requestId}`), order.indexOf(`failed ${r.requestId}`)));
  });

  it('serves its metrics on /metrics and declares its queue to health checks', async () => {
    const a = agent('metered');
    const bus = a.use(events<{ tick: { n: number } }>({ name: 'events', concurrency: 1 }));
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    bus.on('tick', async () => blocked, { name: 'slowTick' });
    await a.start();
    for (let n = 0; n < 4; n++) await bus.emit('tick', { n });
    const text = await (await fetch(`${a.url}/metrics`)).text();
    expect(text).toMatch(/sov_events_queue_depth 3/);
    expect(text).toMatch(/sov_events_in_flight 1/);
    expect(text).toMatch(/sov_events_accepted_total 4/);
    const endpoint = (a as unknown as { endpointInstance: { queueDepths(): Record<string, number> } }).endpointInstance;
    expect(endpoint.queueDepths()).toEqual({ events: 3 });
    release();
    await bus.idle();
    const after = await (await fetch(`${a.url}/metrics`)).text();
    expect(after).toMatch(/sov_events_handler_runs_total\{type="tick",handler="slowTick",outcome="ok"\} 4/);
    expect(after).toMatch(/sov_events_handler_duration_seconds_count\{type="tick",handler="slowTick"\} 4/);
  });

  it('a durable agent restarted resumes the registry stream where it stopped: nothing missed, nothing twice', async () => {
    const dir = tempDir();
    const identity = Identity.generate();
    const start = async () => {
      const a = agent('follower', identity);
      const bus = a.use(events({ durable: { dir }, registry: { types: ['peer_joined', 'peer_left'] } }));
      const seen: string[] = [];
      bus.on('peer_joined', async (e) => void seen.push(`joined ${e.data.peer_id}`));
      bus.on('peer_left', async (e) => void seen.push(`left ${e.data.peer_id}`));
      await a.start();
      return { a, seen };
    };
    const first = await start();
    const x = agent('x');
    await x.start();
    await waitFor('the first subscriber to see x join', () => first.seen.includes(`joined ${x.id}`), { timeoutMs: 8000 });
    await first.a.shutdown();

    // While the follower is down: y joins, x leaves.
    const y = agent('y');
    await y.start();
    await x.shutdown();

    const second = await start();
    await waitFor('the second subscriber to see y join and x leave', () => second.seen.includes(`joined ${y.id}`) && second.seen.includes(`left ${x.id}`), { timeoutMs: 8000 });
    expect(second.seen.filter((s) => s.includes(x.id) || s.includes(y.id))).toEqual([`joined ${y.id}`, `left ${x.id}`]);
  });

  it('EventDrivenAgent: the guide composition follows new_request, peer_joined and peer_left', async () => {
    const a = new EventDrivenAgent<{ processed: { ok: boolean } }>({ name: 'reactive', registryUrl: registry.url, identity: Identity.generate(), logger: quiet, port: 0 });
    running.push(a);
    const seen: string[] = [];
    a.on('peer_joined', async (e) => void seen.push(`joined ${e.data.peer_id}`));
    a.on('new_request', async (e) => {
      seen.push(`request ${String(e.data.service)}`);
      await a.emit('processed', { ok: true });
    });
    a.on('processed', async (e) => void seen.push(`processed ${String(e.data.ok)}`));
    await a.start();
    const peer = agent('peer');
    await peer.start();
    await peer.registry!.sendRequest(a.id, { service: 'analyse' });
    await waitFor('the event processed', () => seen.includes('processed true'), { timeoutMs: 8000 });
    // Its own registration is a peer_joined too (the subscription opens before it registers).
    expect(seen.filter((s) => s !== `joined ${a.id}`)).toEqual([`joined ${peer.id}`, 'request analyse', 'processed true']);
  });

  it('refuses a second subscription under a name already taken, the one the options ask for included', async () => {
    const a = agent('twice');
    const bus = a.use(events({ registry: { types: ['peer_joined'] } }));
    await expect(bus.subscribeRegistry({ types: ['peer_left'] })).rejects.toMatchObject({ code: 'CONFLICT' });
    await a.start();
    const other = await bus.subscribeRegistry({ name: 'other', types: ['peer_left'] });
    expect(typeof other.close).toBe('function');
    await expect(bus.subscribeRegistry({ name: 'other' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses to follow a registry when the agent has none', async () => {
    const standalone = new Agent({ name: 'alone', logger: quiet, port: 0 });
    running.push(standalone);
    standalone.use(events({ registry: true }));
    await expect(standalone.start()).rejects.toThrow(/this agent has no registry/);
  });
});
