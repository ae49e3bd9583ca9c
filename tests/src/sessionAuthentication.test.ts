import { Agent, SESSION_PATH } from '@sov/core';
import { Identity, RequestVerifier } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { ManualClock, TestRegistry } from '@sov/testing';
import { RawCaller } from './rawCaller';
import { rawPost } from './rawPost';

const rpcBody = (text: string) => Buffer.from(JSON.stringify({ service: 'whoami', params: { text } }));

describe('session-authenticated calls (Ed25519 handshake once, HMAC per request)', () => {
  let registry: TestRegistry;
  const agents: Agent[] = [];
  // Real timers, a time the test moves (for the receiver's session expiry).
  const bobClock = new ManualClock({ overRealTime: true });
  const bobIdentity = Identity.generate({ sessions: { clock: bobClock, ttlSec: 600 } });
  let bob: Agent;
  let carol: Agent;
  let bobOrigin: string;

  async function whoamiAgent(name: string, identity: Identity, port = 0): Promise<Agent> {
    const agent = new Agent({ name, registryUrl: registry.url, identity, port, logLevel: 'error' });
    agent.use(serviceRouter()).register({
      name: 'whoami',
      handler: (_p: unknown, ctx) => ({ caller: ctx.caller?.id ?? null, session: (ctx.caller)?.session ?? null }),
    });
    await agent.start();
    agents.push(agent);
    return agent;
  }

  async function callerAgent(name: string, options: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Promise<Agent> {
    const agent = new Agent({ name, registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error', ...options });
    await agent.start();
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    registry = await TestRegistry.start();
    bob = await whoamiAgent('bob', bobIdentity);
    carol = await whoamiAgent('carol', Identity.generate());
    bobOrigin = bob.url!;
  });
  afterAll(async () => {
    for (const a of agents.reverse()) await a.shutdown();
    await registry.stop();
  });

  it('agent.call authenticates under a session by default: the callee sees the caller id and the session', async () => {
    const alice = await callerAgent('alice');
    const first = await alice.call<{ caller: string; session: string | null }>(bob.id, 'whoami', { text: 'a' });
    const second = await alice.call<{ caller: string; session: string | null }>(bob.id, 'whoami', { text: 'b' });
    expect(first.caller).toBe(alice.id);
    expect(first.session).toMatch(/^s_/);
    expect(second.session).toBe(first.session);
  });

  it('many concurrent first calls share one handshake', async () => {
    const dave = await callerAgent('dave');
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => dave.call<{ session: string }>(bob.id, 'whoami', { text: String(i) })));
    expect(new Set(replies.map((r) => r.session)).size).toBe(1);
  });

  it("callAuthentication: 'per-request' signs every call with the identity key (no session)", async () => {
    const erin = await callerAgent('erin', { callAuthentication: 'per-request' });
    await expect(erin.call(bob.id, 'whoami', { text: 'x' })).resolves.toEqual({ caller: erin.id, session: null });
  });

  it('a receiver that takes no sessions is called with per-request signatures, transparently', async () => {
    // An identity whose verifier holds no sessions (as an older agent's): no handshake route.
    const id = Identity.generate();
    const legacy = new Agent({
      name: 'legacy',
      registryUrl: registry.url,
      identity: { id: id.id, signer: id.signer, createVerifier: () => id.createVerifier({ sessions: false }), signReceipt: (r) => id.signReceipt(r) },
      port: 0,
      logLevel: 'error',
    });
    legacy.use(serviceRouter()).register({ name: 'whoami', handler: (_p: unknown, ctx) => ({ caller: ctx.caller?.id ?? null, session: ctx.caller?.session ?? null }) });
    await legacy.start();
    agents.push(legacy);
    const frank = await callerAgent('frank');
    await expect(frank.call(legacy.id, 'whoami', {})).resolves.toEqual({ caller: frank.id, session: null });
    await expect(frank.call(legacy.id, 'whoami', {})).resolves.toEqual({ caller: frank.id, session: null });
  });

  it('refuses a forged handshake: a changed offer, or a signature by another key under the caller id', async () => {
    const raw = new RawCaller(Identity.generate());
    const offer = raw.sessions.offer(`${bob.id} ${bobOrigin}`, bob.id);
    const headers = raw.handshakeHeaders(bobOrigin, bob.id, offer.body);
    const changed = Buffer.from(JSON.stringify({ v: 1, ephemeral: Buffer.alloc(32, 7).toString('base64url') }));
    const tampered = await rawPost(`${bobOrigin}${SESSION_PATH}`, headers, changed);
    expect(tampered).toMatchObject({ status: 401, body: { success: false, error: { code: 'SIGNATURE_INVALID' } } });
    const mallory = Identity.generate();
    const forged = { ...headers, ...mallory.signer.sign({ method: 'POST', url: `${bobOrigin}${SESSION_PATH}`, body: offer.body, headers: { 'x-sov-receiver': bob.id } }) };
    forged['Signature-Input'] = forged['Signature-Input']!.replace(mallory.id, raw.identity.id);
    const answer = await rawPost(`${bobOrigin}${SESSION_PATH}`, forged, offer.body);
    expect(answer).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_INVALID' } } });
  });

  it('refuses an unsigned handshake, a malformed offer, and one signed for another receiver', async () => {
    const raw = new RawCaller(Identity.generate());
    const offer = raw.sessions.offer(`${bob.id} ${bobOrigin}`, bob.id);
    expect(await rawPost(`${bobOrigin}${SESSION_PATH}`, { 'content-type': 'application/json' }, offer.body)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    for (const bad of [{ v: 2, ephemeral: 'x' }, { v: 1, ephemeral: 'not-a-key' }, [1], { v: 1 }]) {
      const body = Buffer.from(JSON.stringify(bad));
      const answer = await rawPost(`${bobOrigin}${SESSION_PATH}`, raw.handshakeHeaders(bobOrigin, bob.id, body), body);
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } });
    }
    const forCarol = await rawPost(`${bobOrigin}${SESSION_PATH}`, raw.handshakeHeaders(bobOrigin, carol.id, offer.body), offer.body);
    expect(forCarol).toMatchObject({ status: 401, body: { error: { code: 'WRONG_RECEIVER' } } });
  });

  it('refuses a replayed handshake', async () => {
    const raw = new RawCaller(Identity.generate());
    const offer = raw.sessions.offer(`${bob.id} ${bobOrigin}`, bob.id);
    const headers = raw.handshakeHeaders(bobOrigin, bob.id, offer.body);
    expect((await rawPost(`${bobOrigin}${SESSION_PATH}`, headers, offer.body)).status).toBe(200);
    expect(await rawPost(`${bobOrigin}${SESSION_PATH}`, headers, offer.body)).toMatchObject({ status: 401, body: { error: { code: 'REPLAY_DETECTED' } } });
  });

  it('refuses a handshake answer that another key signed, or that names another receiver, at the caller', async () => {
    const raw = new RawCaller(Identity.generate());
    const offer = raw.sessions.offer(`${bob.id} ${bobOrigin}`, bob.id);
    const answer = await rawPost(`${bobOrigin}${SESSION_PATH}`, raw.handshakeHeaders(bobOrigin, bob.id, offer.body), offer.body);
    const session = answer.body.session!;
    expect(() => offer.complete({ session: { ...session, expires: (session.expires as number) + 60 } })).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    expect(() => offer.complete({ session: { ...session, receiver: carol.id } })).toThrow(/not from the agent called/);
    expect(() => offer.complete({ nothing: true })).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    expect(raw.sessions.sessionWith(`${bob.id} ${bobOrigin}`)).toBeUndefined();
    offer.complete(answer.body);
    expect(raw.sessions.sessionWith(`${bob.id} ${bobOrigin}`)).toBe(session.id);
  });

  it('refuses a session request replayed, and one whose body was changed', async () => {
    const raw = new RawCaller(Identity.generate());
    await raw.open(bobOrigin, bob.id);
    const body = rpcBody('once');
    const headers = raw.sessionHeaders(bobOrigin, bob.id, body);
    const first = await rawPost(`${bobOrigin}/rpc`, headers, body);
    expect(first).toMatchObject({ status: 200, body: { success: true, result: { caller: raw.identity.id } } });
    expect(await rawPost(`${bobOrigin}/rpc`, headers, body)).toMatchObject({ status: 401, body: { error: { code: 'REPLAY_DETECTED' } } });
    const next = raw.sessionHeaders(bobOrigin, bob.id, body);
    expect(await rawPost(`${bobOrigin}/rpc`, next, rpcBody('changed'))).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_INVALID' } } });
  });

  it('refuses a session signature spelt otherwise than in canonical base64 (unused bits set), though it decodes to the same MAC', async () => {
    const raw = new RawCaller(Identity.generate());
    await raw.open(bobOrigin, bob.id);
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const body = rpcBody('bent');
    for (const unused of [1, 2]) {
      const headers = raw.sessionHeaders(bobOrigin, bob.id, body);
      const mac = headers['Signature']!;
      // 'sig1=:' + 43 characters + '=:': the 43rd carries 4 bits of the last byte and 2 unused bits.
      const at = mac.length - 3;
      const bent = mac.slice(0, at) + B64[B64.indexOf(mac[at]!) | unused]! + mac.slice(at + 1);
      expect(Buffer.from(bent.slice(6, -1), 'base64')).toEqual(Buffer.from(mac.slice(6, -1), 'base64'));
      expect(await rawPost(`${bobOrigin}/rpc`, { ...headers, Signature: bent }, body)).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_INVALID' } } });
    }
    const fine = raw.sessionHeaders(bobOrigin, bob.id, body);
    expect(await rawPost(`${bobOrigin}/rpc`, fine, body)).toMatchObject({ status: 200, body: { success: true } });
  });

  it("refuses another peer's use of a session id: its own session key under alice's id does not verify", async () => {
    const alice = new RawCaller(Identity.generate());
    const mallory = new RawCaller(Identity.generate());
    const aliceSession = await alice.open(bobOrigin, bob.id);
    await mallory.open(bobOrigin, bob.id);
    const body = rpcBody('as alice');
    const headers = mallory.sessionHeaders(bobOrigin, bob.id, body);
    const malloryKeyId = /keyid="([^"]+)"/.exec(headers['Signature-Input']!)![1]!;
    headers['Signature-Input'] = headers['Signature-Input']!.replace(malloryKeyId, aliceSession);
    expect(await rawPost(`${bobOrigin}/rpc`, headers, body)).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_INVALID' } } });
    // An id nobody opened.
    headers['Signature-Input'] = headers['Signature-Input'].replace(aliceSession, 's_AAAAAAAAAAAAAAAAAAAAAAAA');
    expect(await rawPost(`${bobOrigin}/rpc`, headers, body)).toMatchObject({ status: 401, body: { error: { code: 'SESSION_UNKNOWN' } } });
  });

  it('refuses a session request sent to another receiver (named by id, or by authority)', async () => {
    const raw = new RawCaller(Identity.generate());
    await raw.open(bobOrigin, bob.id);
    const body = rpcBody('for bob');
    expect(await rawPost(`${carol.url!}/rpc`, raw.sessionHeaders(bobOrigin, bob.id, body), body)).toMatchObject({ status: 401, body: { error: { code: 'WRONG_RECEIVER' } } });
    // Without the receiver header, the session request names bob by authority; at carol (another port) it is refused too.
    const byAuthority = raw.sessions.sign(`${bob.id} ${bobOrigin}`, { method: 'POST', url: `${bobOrigin}/rpc`, body, headers: {} })!;
    const answer = await rawPost(`${carol.url!}/rpc`, { 'content-type': 'application/json', host: new URL(bobOrigin).host, ...byAuthority }, body);
    expect(answer.status).toBe(401);
    expect(['WRONG_RECEIVER', 'SESSION_UNKNOWN']).toContain(answer.body.error!.code);
  });

  it('an expired session is refused with SESSION_EXPIRED, and agent.call opens a new one by itself', async () => {
    const grace = await callerAgent('grace');
    const before = await grace.call<{ session: string }>(bob.id, 'whoami', {});
    const raw = new RawCaller(Identity.generate());
    await raw.open(bobOrigin, bob.id);
    bobClock.advance(601_000);
    const body = rpcBody('late');
    expect(await rawPost(`${bobOrigin}/rpc`, raw.sessionHeaders(bobOrigin, bob.id, body), body)).toMatchObject({ status: 401, body: { error: { code: 'SESSION_EXPIRED' } } });
    const after = await grace.call<{ session: string; caller: string }>(bob.id, 'whoami', {});
    expect(after.caller).toBe(grace.id);
    expect(after.session).toMatch(/^s_/);
    expect(after.session).not.toBe(before.session);
  });

  it('a receiver restarted mid-session (same identity, same port) is called on without an error: one new handshake', async () => {
    const henry = await callerAgent('henry');
    const identity = Identity.generate();
    const first = await whoamiAgent('restarting', identity);
    const port = Number(new URL(first.url!).port);
    const before = await henry.call<{ session: string }>(first.id, 'whoami', {});
    await first.shutdown();
    await whoamiAgent('restarting', identity, port);
    const after = await henry.call<{ session: string; caller: string }>(identity.id, 'whoami', {});
    expect(after.caller).toBe(henry.id);
    expect(after.session).not.toBe(before.session);
  });
});

describe('session signatures where sessions are not taken', () => {
  it('a verifier without sessions (the registry) refuses an hmac-sha256 signature', () => {
    const alice = Identity.generate();
    const bob = Identity.generate();
    const bobVerifier = bob.createVerifier();
    const initiator = alice.createSessionAuthenticator();
    const peer = `${bob.id} http://127.0.0.1:1`;
    const offer = initiator.offer(peer, bob.id);
    offer.complete(bobVerifier.acceptSession!({ id: alice.id, keyId: alice.id }, JSON.parse(Buffer.from(offer.body).toString()) as unknown));
    const body = rpcBody('x');
    const headers = initiator.sign(peer, { method: 'POST', url: 'http://127.0.0.1:1/rpc', body, headers: {} })!;
    const request = { method: 'POST', path: '/rpc', authority: '127.0.0.1:1', headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body };
    expect(bobVerifier.verify(request)).toMatchObject({ id: alice.id });
    expect(() => new RequestVerifier().verify(request)).toThrow(/takes no session signatures/);
  });
});
