import { Agent, createLogger } from '@sov/core';
import { Identity, RequestVerifier } from '@sov/crypto';
import { RegistryServer } from '@sov/registry';
import { serviceRouter } from '@sov/services';
import { TestRegistry } from '@sov/testing';
import { rawPost } from './rawPost';


function capture(signer: Identity['signer'], url: string, body: Buffer, sov: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', host: new URL(url).host, ...sov };
  Object.assign(headers, signer.sign({ method: 'POST', url, body, headers: { 'content-type': 'application/json', ...sov } }));
  return headers;
}

describe('a signed request is spent only at the receiver it names', () => {
  let registry: TestRegistry;
  let other: TestRegistry;
  const agents: Agent[] = [];
  const alice = Identity.generate();

  async function echoAgent(name: string): Promise<Agent> {
    const agent = new Agent({ name, registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error' });
    agent.use(serviceRouter()).register({ name: 'echo', handler: (p: unknown) => p });
    await agent.start();
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    registry = await TestRegistry.start();
    other = await TestRegistry.start();
  });
  afterAll(async () => {
    for (const a of agents) await a.shutdown();
    await registry.stop();
    await other.stop();
  });

  const rpc = Buffer.from(JSON.stringify({ service: 'echo', params: { text: 'hi' } }));

  it('refuses at agent B a call signed for agent A, with Host rewritten to A, before and after A served it', async () => {
    const a = await echoAgent('a');
    const b = await echoAgent('b');
    for (const sov of [{ 'x-sov-receiver': a.id }, {}]) {
      const headers = capture(alice.signer, `${a.url!}/rpc`, rpc, sov);
      const atB = await rawPost(`${b.url!}/rpc`, headers, rpc);
      expect(atB.status).toBe(401);
      expect(atB.body.error?.code).toBe('WRONG_RECEIVER');
      expect((await rawPost(`${a.url!}/rpc`, headers, rpc)).status).toBe(200);
      const afterDelivery = await rawPost(`${b.url!}/rpc`, headers, rpc);
      expect(afterDelivery.body.error?.code).toBe('WRONG_RECEIVER');
    }
  });

  it('refuses across an agent and the registry, and across two registries', async () => {
    const a = await echoAgent('c');
    const registration = Buffer.from(JSON.stringify({ id: alice.id, name: 'alice', endpoint: 'http://127.0.0.1:1', capabilities: [] }));
    const forRegistry = capture(alice.signer, `${registry.url}/v1/agents`, registration);
    // A call signed for the registry's host, sent to the agent's /rpc with that Host.
    const rpcForRegistry = capture(alice.signer, `${registry.url}/rpc`, rpc);
    const atAgent = await rawPost(`${a.url!}/rpc`, rpcForRegistry, rpc);
    expect(atAgent.status).toBe(401);
    expect(atAgent.body.error?.code).toBe('WRONG_RECEIVER');
    expect(atAgent.body.error?.message).toContain(new URL(registry.url).host);
    const atOther = await rawPost(`${other.url}/v1/agents`, forRegistry, registration);
    expect(atOther.body.error?.code).toBe('WRONG_RECEIVER');
    expect(await other.listAgents()).toEqual([]);
    const forAgent = capture(alice.signer, `${a.url!}/rpc`, rpc, { 'x-sov-receiver': a.id });
    const agentCallAtRegistry = await rawPost(`${registry.url}/v1/agents/${encodeURIComponent(a.id)}/requests`, forAgent, rpc);
    expect(agentCallAtRegistry.body.error?.code).toBe('WRONG_RECEIVER');
    expect((await rawPost(`${registry.url}/v1/agents`, forRegistry, registration)).status).toBe(201);
  });

  it('refuses a receipt request a relay added to a call signed without one', async () => {
    const a = await echoAgent('d');
    const headers = capture(alice.signer, `${a.url!}/rpc`, rpc, { 'x-sov-receiver': a.id });
    const relayed = await rawPost(`${a.url!}/rpc`, { ...headers, 'x-sov-receipt': '1' }, rpc);
    expect(relayed.status).toBe(401);
    expect(relayed.body.error?.code).toBe('SIGNATURE_INVALID');
    expect(relayed.body.error?.message).toContain('x-sov-receipt');
  });

  it('refuses a signed x-sov-* header the signature does not cover, even one the sender set itself', async () => {
    const a = await echoAgent('f');
    const headers = capture(alice.signer, `${a.url!}/rpc`, rpc, { 'x-sov-receiver': a.id });
    const extra = await rawPost(`${a.url!}/rpc`, { ...headers, 'x-sov-trace': 'abc' }, rpc);
    expect(extra.status).toBe(401);
    expect(extra.body.error).toEqual({ code: 'SIGNATURE_INVALID', message: expect.stringContaining('x-sov-trace') as string });
    // The same capture without the extra header is still the sender's own and is served once.
    expect((await rawPost(`${a.url!}/rpc`, headers, rpc)).status).toBe(200);
  });

  it('serves a receipt to a caller whose signature covers its request for one', async () => {
    const a = await echoAgent('g');
    const caller = new Agent({ name: 'receipt-caller', registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error' });
    await caller.start();
    agents.push(caller);
    const result = await caller.callDetailed(a.id, 'echo', { text: 'r' }, { receipt: true });
    expect(result.receipt?.caller).toBe(caller.id);
    expect(result.receipt?.callee).toBe(a.id);
  });

  it('still serves agent.call by query end to end (the receiver header is sent and accepted)', async () => {
    await echoAgent('e');
    const caller = new Agent({ name: 'caller', registryUrl: registry.url, identity: alice, port: 0, logLevel: 'error' });
    await caller.start();
    agents.push(caller);
    await expect(caller.call({ capability: 'echo' }, 'echo', { text: 'ok' })).resolves.toEqual({ text: 'ok' });
  });
});

describe('a registry behind a publicUrl', () => {
  const alice = Identity.generate();
  const logger = createLogger({ silent: true });
  const servers: RegistryServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  async function start(host: string): Promise<RegistryServer> {
    const server = await RegistryServer.start({ host, port: 0, publicUrl: 'http://registry.internal:7000', verifier: new RequestVerifier(), logger, rateLimit: false });
    servers.push(server);
    return server;
  }

  const registration = (who: Identity, name: string) => Buffer.from(JSON.stringify({ id: who.id, name, endpoint: 'http://127.0.0.1:1', capabilities: [] }));

  it('accepts a request signed for its public URL, wherever the connection lands', async () => {
    const server = await start('0.0.0.0');
    const body = registration(alice, 'public');
    const headers = capture(alice.signer, 'http://registry.internal:7000/v1/agents', body);
    const answer = await rawPost(`${server.url}/v1/agents`, headers, body);
    expect(answer.status).toBe(201);
  });

  it('bound to every interface, refuses a request signed for its loopback address (the same name on every host)', async () => {
    const server = await start('0.0.0.0');
    const body = registration(alice, 'loopback');
    const answer = await rawPost(`${server.url}/v1/agents`, capture(alice.signer, `${server.url}/v1/agents`, body), body);
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('WRONG_RECEIVER');
    expect(answer.body.error?.message).toContain('registry.internal:7000');
    expect(answer.body.error?.message).toContain('publicUrl');
  });

  it('bound to loopback, accepts its loopback address as well as its public URL', async () => {
    const server = await start('127.0.0.1');
    const bob = Identity.generate();
    const first = registration(alice, 'local');
    expect((await rawPost(`${server.url}/v1/agents`, capture(alice.signer, `${server.url}/v1/agents`, first), first)).status).toBe(201);
    const second = registration(bob, 'public-too');
    expect((await rawPost(`${server.url}/v1/agents`, capture(bob.signer, 'http://registry.internal:7000/v1/agents', second), second)).status).toBe(201);
  });
});
