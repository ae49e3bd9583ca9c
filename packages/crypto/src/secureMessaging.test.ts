import { Writable } from 'node:stream';
import { Agent, PeerClient, SovError, type AgentRecord, type RegistryClient, type Signer } from '@sov/core';
import { Identity } from './identity';
import { secureMessaging } from './secureMessaging';
import type { OpenedMessage } from './secureMessenger';

const quiet = () => new Writable({ write: (_chunk, _enc, done) => done() });

/** A minimal in-memory RegistryClient (the real MockRegistry lives in @sov/testing). */
function memoryRegistry(): RegistryClient & { records: Map<string, AgentRecord> } {
  const records = new Map<string, AgentRecord>();
  const lease = () => ({ ttl: 30, expiresAt: new Date(Date.now() + 30_000).toISOString() });
  return {
    records,
    async register(r) {
      const now = new Date().toISOString();
      const agent: AgentRecord = {
        id: r.id, name: r.name, endpoint: r.endpoint, capabilities: r.capabilities, services: r.services ?? [],
        metadata: r.metadata ?? {}, ttl: r.ttl ?? 30, registeredAt: now, lastHeartbeat: now, expiresAt: lease().expiresAt, reputation: 0, availability: 1,
      };
      records.set(r.id, agent);
      return { agent, lease: lease() };
    },
    async heartbeat() {
      return lease();
    },
    async deregister(id) {
      records.delete(id);
    },
    async get(id) {
      const record = records.get(id);
      if (!record) throw new SovError('NOT_FOUND', `No agent ${id}`);
      return record;
    },
    async search() {
      return { agents: [...records.values()], total: records.size, nextCursor: null };
    },
    updateMetadata: () => Promise.reject(new SovError('UNAVAILABLE', 'not in this fake')),
    getStake: () => Promise.reject(new SovError('UNAVAILABLE', 'not in this fake')),
    submitFeedback: () => Promise.reject(new SovError('UNAVAILABLE', 'not in this fake')),
    sendRequest: () => Promise.reject(new SovError('UNAVAILABLE', 'not in this fake')),
    subscribe: () => {
      throw new SovError('UNAVAILABLE', 'not in this fake');
    },
  };
}

async function codeOf(work: Promise<unknown>): Promise<{ code: string | undefined; status: number | undefined } | undefined> {
  try {
    await work;
    return undefined;
  } catch (e) {
    return { code: (e as { code?: string }).code, status: (e as { status?: number }).status };
  }
}

const base = { host: '127.0.0.1', port: 0, logLevel: 'error' as const, env: {} };

describe('signed calls between real agents', () => {
  const identity = Identity.generate();
  const caller = Identity.generate();
  const agent = new Agent({ ...base, name: 'callee', identity, logStream: quiet() });
  agent.handle((_request, context) => ({ result: context.caller?.id ?? null }));
  beforeAll(() => agent.start());
  afterAll(() => agent.shutdown());

  it('hands the verified caller id to the handler', async () => {
    const reply = await new PeerClient({ signer: caller.signer }).call(agent.url!, { service: 'whoami' });
    expect(reply.result).toBe(caller.id);
  });

  it('refuses an unsigned call with 401 UNAUTHORIZED', async () => {
    expect(await codeOf(new PeerClient().call(agent.url!, { service: 'whoami' }))).toEqual({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('refuses a forged or altered call with SIGNATURE_INVALID', async () => {
    const altered: Signer = {
      keyId: caller.id,
      sign: (request) => caller.signer.sign({ ...request, body: Buffer.from('{"service":"other"}') }),
    };
    expect(await codeOf(new PeerClient({ signer: altered }).call(agent.url!, { service: 'whoami' }))).toEqual({ code: 'SIGNATURE_INVALID', status: 401 });
    const impostor = Identity.generate();
    const forged: Signer = {
      keyId: caller.id,
      sign: (request) => {
        const headers = impostor.signer.sign(request);
        return { ...headers, 'Signature-Input': headers['Signature-Input']!.replace(impostor.id, caller.id) };
      },
    };
    expect(await codeOf(new PeerClient({ signer: forged }).call(agent.url!, { service: 'whoami' }))).toEqual({ code: 'SIGNATURE_INVALID', status: 401 });
  });

  it('accepts anonymous callers only when the agent allows them', async () => {
    const open = new Agent({ ...base, name: 'open', identity: Identity.generate(), allowAnonymous: true, logStream: quiet() });
    open.handle((_r, context) => ({ result: context.caller?.id ?? 'anonymous' }));
    await open.start();
    try {
      expect((await new PeerClient().call(open.url!, {})).result).toBe('anonymous');
      expect((await new PeerClient({ signer: caller.signer }).call(open.url!, {})).result).toBe(caller.id);
    } finally {
      await open.shutdown();
    }
  });
});

describe('secureMessaging capability', () => {
  it('sends a sealed message through the registry and the recipient route', async () => {
    const registry = memoryRegistry();
    const alice = new Agent({ ...base, name: 'alice', identity: Identity.generate(), registry, logStream: quiet() });
    const bob = new Agent({ ...base, name: 'bob', identity: Identity.generate(), registry, logStream: quiet() });
    const aliceSecure = alice.use(secureMessaging());
    const bobSecure = bob.use(secureMessaging());
    const received: OpenedMessage[] = [];
    const dispose = bobSecure.onMessage((m) => {
      received.push(m);
    });
    bobSecure.onMessage(() => {
      throw new Error('a failing listener does not break delivery');
    });
    await Promise.all([alice.start(), bob.start()]);
    try {
      expect(registry.records.get(alice.id)?.metadata['x25519']).toEqual(expect.objectContaining({ publicKey: expect.any(String) }));
      const delivery = await aliceSecure.sendSecureMessage(bob.id, { text: 'for your eyes only' });
      await aliceSecure.sendSecureMessage(bob.id, { text: 'second' });
      expect(received.map((m) => [m.from, m.message])).toEqual([
        [alice.id, { text: 'for your eyes only' }],
        [alice.id, { text: 'second' }],
      ]);
      expect(received[0]!.id).toBe(delivery.id);

      // The route itself refuses replays and anonymous posts.
      const envelope = await aliceSecure.messenger.seal(bob.id, 'replayed');
      await bobSecure.receiveSecureMessage(envelope);
      expect(await codeOf(bobSecure.receiveSecureMessage(envelope))).toMatchObject({ code: 'REPLAY_DETECTED' });
      const anonymous = await fetch(`${bob.url}/secure/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
      expect(anonymous.status).toBe(401);
      expect(await codeOf(aliceSecure.sendSecureMessage(Identity.generate().id, 'nobody'))).toMatchObject({ code: 'NOT_FOUND' });
      dispose();
      await aliceSecure.sendSecureMessage(bob.id, 'unheard');
      expect(received).toHaveLength(3);
    } finally {
      await Promise.all([alice.shutdown(), bob.shutdown()]);
    }
  });

  it('refuses to initialize without an @sov/crypto Identity', async () => {
    const agent = new Agent({ ...base, name: 'plain', logStream: quiet() });
    agent.use(secureMessaging());
    expect(await codeOf(agent.start())).toMatchObject({ code: 'CAPABILITY_FAILED' });
  });
});
