import { Agent } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { TestRegistry } from '@sov/testing';
import { RawCaller } from './rawCaller';
import { RawMux, requestFrame } from './rawMux';
import { rawPost } from './rawPost';

/**
 * sov-mux/1 adds no trust of its own: a request frame is verified exactly as
 * the HTTP request it stands for (signature on the raw bytes, receiver,
 * session, replay window) before anything is done with it. These attacks
 * are the session suite's, sent over the multiplexed connection.
 */
const body = (text: string) => Buffer.from(JSON.stringify({ service: 'whoami', params: { text } }));

describe('authentication over sov-mux', () => {
  let registry: TestRegistry;
  let bob: Agent;
  let carol: Agent;
  const agents: Agent[] = [];

  async function whoamiAgent(name: string): Promise<Agent> {
    const agent = new Agent({ name, registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error' });
    agent.use(serviceRouter()).register({ name: 'whoami', handler: (p: { text?: string }, ctx) => ({ caller: ctx.caller?.id ?? null, session: ctx.caller?.session ?? null, text: p.text ?? null }) });
    await agent.start();
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    registry = await TestRegistry.start();
    bob = await whoamiAgent('bob');
    carol = await whoamiAgent('carol');
  });
  afterAll(async () => {
    for (const a of agents.reverse()) await a.shutdown();
    await registry.stop();
  });

  it('agent.call goes over sov-mux by default, session-authenticated, and per request when asked', async () => {
    const alice = new Agent({ name: 'alice', registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error' });
    const erin = new Agent({ name: 'erin', registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error', callAuthentication: 'per-request' });
    await alice.start();
    await erin.start();
    agents.push(alice, erin);
    const before = await muxRequests(bob.url!);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.call<{ caller: string; session: string }>(bob.id, 'whoami', { text: String(i) })));
    expect(new Set(replies.map((r) => r.caller))).toEqual(new Set([alice.id]));
    expect(new Set(replies.map((r) => r.session)).size).toBe(1);
    await expect(erin.call(bob.id, 'whoami', { text: 'e' })).resolves.toEqual({ caller: erin.id, session: null, text: 'e' });
    expect((await muxRequests(bob.url!)) - before).toBe(21);
  });

  it('refuses an unsigned request frame (UNAUTHORIZED), and a frame whose body is not the one signed (SIGNATURE_INVALID)', async () => {
    const raw = new RawCaller(Identity.generate());
    await raw.open(bob.url!, bob.id);
    const mux = await RawMux.open(bob.url!);
    mux.send(requestFrame(1, { 'content-type': 'application/json' }, body('anon')));
    const headers = raw.sessionHeaders(bob.url!, bob.id, body('signed'));
    mux.send(requestFrame(2, lower(headers), body('changed')));
    expect(await mux.on(1)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect(await mux.on(2)).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_INVALID' } } });
    mux.close();
  });

  it('serves a session frame once: the same frame again is a replay on that connection, on a new one, and over HTTP', async () => {
    const raw = new RawCaller(Identity.generate());
    await raw.open(bob.url!, bob.id);
    const headers = lower(raw.sessionHeaders(bob.url!, bob.id, body('once')));
    const first = await RawMux.open(bob.url!);
    first.send(requestFrame(1, headers, body('once')));
    expect(await first.on(1)).toMatchObject({ status: 200, body: { result: { caller: raw.identity.id, text: 'once' } } });
    first.send(requestFrame(2, headers, body('once')));
    expect(await first.on(2)).toMatchObject({ status: 401, body: { error: { code: 'REPLAY_DETECTED' } } });
    const second = await RawMux.open(bob.url!);
    second.send(requestFrame(1, headers, body('once')));
    expect(await second.on(1)).toMatchObject({ status: 401, body: { error: { code: 'REPLAY_DETECTED' } } });
    expect(await rawPost(`${bob.url!}/rpc`, headers, body('once'))).toMatchObject({ status: 401, body: { error: { code: 'REPLAY_DETECTED' } } });
    first.close();
    second.close();
  });

  it('refuses a frame signed for another receiver (WRONG_RECEIVER), and one under another caller\'s session', async () => {
    const raw = new RawCaller(Identity.generate());
    await raw.open(carol.url!, carol.id);
    // A capture of a call to carol, spent at bob.
    const forCarol = lower(raw.sessionHeaders(carol.url!, carol.id, body('c')));
    const mux = await RawMux.open(bob.url!);
    mux.send(requestFrame(1, forCarol, body('c')));
    expect(await mux.on(1)).toMatchObject({ status: 401 });
    expect(['WRONG_RECEIVER', 'SESSION_UNKNOWN']).toContain((await mux.on(1)).body?.error?.code);
    // Mallory names alice's session with her own key.
    const alice = new RawCaller(Identity.generate());
    const mallory = new RawCaller(Identity.generate());
    const aliceSession = await alice.open(bob.url!, bob.id);
    await mallory.open(bob.url!, bob.id);
    const forged = lower(mallory.sessionHeaders(bob.url!, bob.id, body('m')));
    forged['signature-input'] = forged['signature-input']!.replace(/keyid="[^"]*"/, `keyid="${aliceSession}"`);
    mux.send(requestFrame(2, forged, body('m')));
    expect(await mux.on(2)).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_INVALID' } } });
    mux.close();
  });

  it('answers a frame under a session the receiver does not hold with SESSION_UNKNOWN', async () => {
    const raw = new RawCaller(Identity.generate());
    await raw.open(bob.url!, bob.id);
    const headers = lower(raw.sessionHeaders(bob.url!, bob.id, body('x')));
    headers['signature-input'] = headers['signature-input']!.replace(/keyid="[^"]*"/, 'keyid="s_AAAAAAAAAAAAAAAAAAAAAAAA"');
    const mux = await RawMux.open(bob.url!);
    mux.send(requestFrame(1, headers, body('x')));
    expect(await mux.on(1)).toMatchObject({ status: 401, body: { error: { code: 'SESSION_UNKNOWN' } } });
    mux.close();
  });
});

/** Header names as the frame carries them (lowercased), as @sov/core's caller sends them. */
function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

async function muxRequests(url: string): Promise<number> {
  const page = await (await fetch(`${url}/metrics`)).text();
  const line = page.split('\n').find((l) => l.startsWith('sov_agent_mux_requests_total '));
  return Number(line?.split(' ')[1]);
}
