import { createServer, type Server, type Socket } from 'node:net';
import { Agent, HttpRegistryClient } from '@sov/core';
import { Identity, RequestVerifier } from '@sov/crypto';
import { RegistryServer } from '@sov/registry';
import { federation, serviceScore, type FederationApi } from '../index';
import { freePort } from '@sov/testing';
import { federationNet, quiet, serviceAgent, until, type NetRegistry } from './federationNet';

/** A triangle of three real registries X - Y - Z, plus one that is down and one that never answers. */
describe('federated search across a triangle of registries', () => {
  let net: Awaited<ReturnType<typeof federationNet>>;
  let reg: Record<string, NetRegistry>;
  const agents: Agent[] = [];
  let client: Agent;
  let fed: FederationApi;
  let downUrl: string;
  let silent: Server;
  const sockets = new Set<Socket>();
  let silentUrl: string;
  const twinIdentity = Identity.generate();

  beforeAll(async () => {
    net = await federationNet(['X', 'Y', 'Z'], [['X', 'Y'], ['Y', 'Z'], ['Z', 'X']]);
    reg = net.reg;
    downUrl = `http://127.0.0.1:${await freePort()}`;
    // Accepts connections and never answers: only the per-registry timeout ends its search.
    silent = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    agents.push(await serviceAgent('cheap-on-x', reg.X!.url, 'quote', { price: 10 }));
    agents.push(await serviceAgent('dear-on-y', reg.Y!.url, 'quote', { price: 90 }));
    agents.push(await serviceAgent('only-on-z', reg.Z!.url, 'translate', { price: 3 }));
    // One agent registered at Y and at Z under the same id: one result, two registries.
    const twin = await serviceAgent('twin', reg.Y!.url, 'quote', { price: 40, identity: twinIdentity });
    agents.push(twin);
    await new HttpRegistryClient({ baseUrl: reg.Z!.url, signer: twinIdentity.signer }).register({
      id: twin.id,
      name: 'twin',
      endpoint: twin.url!,
      capabilities: ['quote'],
      services: [{ name: 'quote', price: 40 }],
      ttl: 60,
    });
    client = new Agent({ name: 'client', registryUrl: reg.X!.url, identity: Identity.generate(), logger: quiet });
    fed = client.use(federation({ registries: [reg.Y!.url, reg.Z!.url, downUrl, silentUrl], searchTimeoutMs: 600, connectTimeoutMs: 800 }));
    await client.start();
  });
  afterAll(async () => {
    await client?.shutdown();
    await Promise.all(agents.map((a) => a.shutdown()));
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
    await net?.close();
  });

  it('merges every registry that answers within its timeout; a down and a silent registry leave the answer on time', async () => {
    const started = Date.now();
    const page = await fed.searchAll('quote');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(600 + 400);
    expect(page.results.map((r) => r.agent.name).sort()).toEqual(['cheap-on-x', 'dear-on-y', 'twin']);
    const outcome = Object.fromEntries(page.registries.map((r) => [r.url, r]));
    expect(outcome[reg.X!.url]).toMatchObject({ ok: true, count: 1 });
    expect(outcome[downUrl]).toMatchObject({ ok: false, error: { code: 'NETWORK_ERROR' } });
    expect(outcome[silentUrl]).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
    expect(fed.registries().find((r) => r.url === downUrl)).toMatchObject({ up: false });
    expect(fed.registries().find((r) => r.url === reg.Y!.url)).toMatchObject({ up: true, primary: false });
  });

  it('a registry that was down at start is retried and comes back when it answers', async () => {
    const late = await RegistryServer.start({ port: Number(new URL(downUrl).port), verifier: new RequestVerifier(), logger: quiet, dashboard: false });
    const agent = await serviceAgent('late-comer', late.url, 'late', { price: 1 });
    try {
      await until('the late registry reconnected', () => fed.registries().find((r) => r.url === downUrl)?.up === true, 8000);
      expect(await fed.findService('late')).toMatchObject({ agent: { name: 'late-comer' }, registry: downUrl });
    } finally {
      await agent.shutdown();
      await late.close();
    }
  });

  it("removes duplicates (keeping every registry that knows the agent) and ranks by the guide's score", async () => {
    fed.clearCache();
    const page = await fed.searchAll('quote', { maxPrice: 100 });
    const twin = page.results.find((r) => r.agent.name === 'twin')!;
    expect(page.results.filter((r) => r.agent.name === 'twin')).toHaveLength(1);
    expect(twin.registries.sort()).toEqual([reg.Y!.url, reg.Z!.url].sort());
    for (const r of page.results) {
      const expected = serviceScore({ reputation: r.agent.reputation, availability: r.agent.availability, price: r.price, maxPrice: 100, fromPrimary: r.registry === reg.X!.url });
      expect(r.score).toBeCloseTo(expected, 10);
    }
    // Same reputation (newcomers) and availability: price and the primary bonus decide.
    expect(page.results.map((r) => r.agent.name)).toEqual(['cheap-on-x', 'twin', 'dear-on-y']);
    expect(page.results[0]!.score - page.results[1]!.score).toBeCloseTo(0.3 * (40 - 10) / 100 + 0.1, 1);
    const best = await fed.findService('quote', { maxPrice: 100 });
    expect(best?.agent.name).toBe('cheap-on-x');
    // A service only the third registry knows is found and credited to it.
    expect(await fed.findService('translate')).toMatchObject({ agent: { name: 'only-on-z' }, registry: reg.Z!.url });
  });

  it('agent.call with a federated query reaches a service only another registry knows', async () => {
    await expect(client.call({ capability: 'translate', federated: true }, 'translate', { text: 'hallo' })).resolves.toEqual({
      servedBy: 'only-on-z',
      params: { text: 'hallo' },
    });
    // Without federated: true the query stays on the agent's own registry, which does not know it.
    await expect(client.call({ capability: 'translate' }, 'translate', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a federated call fails over to the next-ranked agent, on another registry, when the best one is unreachable', async () => {
    const gone = Identity.generate();
    await new HttpRegistryClient({ baseUrl: reg.X!.url, signer: gone.signer }).register({
      id: gone.id,
      name: 'gone',
      endpoint: downUrl,
      capabilities: ['sum'],
      services: [{ name: 'sum', price: 1 }],
      ttl: 60,
    });
    const live = await serviceAgent('live-on-z', reg.Z!.url, 'sum', { price: 50 });
    agents.push(live);
    // X answers from its copy of Z's listings, which follows Z's events: wait for the new one to arrive there.
    await until('X mirrors the listing on Z', async () => JSON.stringify(await (await fetch(`${reg.X!.url}/v1/federation/search?capability=sum`)).json()).includes('live-on-z'));
    const ranked = await fed.searchAll('sum', { maxPrice: 100 });
    expect(ranked.results.map((r) => r.agent.name)).toEqual(['gone', 'live-on-z']);
    await expect(client.call({ capability: 'sum', federated: true, maxPrice: 100 }, 'sum', { a: 1 })).resolves.toMatchObject({ servedBy: 'live-on-z' });
  });

  it('in the triangle the path to a neighbour is direct (1 hop), and a transaction takes it', async () => {
    expect((await fed.path(reg.Z!.identity.id)).map((h) => h.id)).toEqual([reg.X!.identity.id, reg.Z!.identity.id]);
    const onZ = agents.find((a) => a.config.name === 'only-on-z')!;
    const out = await fed.executeCrossRegistryTransaction(onZ.id, reg.Z!.url, { service: 'translate', params: { text: 'hallo' } });
    expect(out.result).toEqual({ servedBy: 'only-on-z', params: { text: 'hallo' } });
    expect(out.receipt.hops.map((h) => h.registry)).toEqual([reg.X!.identity.id, reg.Z!.identity.id]);
  });

  it('caches an answer, and drops it when a registry reports one of its agents gone (peer_left)', async () => {
    fed.clearCache();
    const first = await fed.searchAll('quote');
    expect(first.cached).toBe(false);
    const again = await fed.searchAll('quote');
    expect(again.cached).toBe(true);
    const dear = agents.find((a) => a.config.name === 'dear-on-y')!;
    await dear.shutdown();
    await until('the cached answer dropped', async () => !(await fed.searchAll('quote')).cached);
    const after = await fed.searchAll('quote');
    expect(after.results.map((r) => r.agent.name)).not.toContain('dear-on-y');
  });

  it('refuses bad options and an empty capability with messages that name them', async () => {
    expect(() => federation({ searchTimeoutMs: 0 })).toThrow(/searchTimeoutMs must be a positive number/);
    expect(() => federation({ registries: ['ftp://x'] })).toThrow(/not an http\(s\) URL: "ftp:\/\/x"/);
    expect(() => federation({ weights: { price: -1 } })).toThrow(/weights.price must be a number from 0 to 1000 \(got -1\)/);
    expect(() => federation({ weights: { primary: 1001 } })).toThrow(/weights.primary must be a number from 0 to 1000 \(got 1001\)/);
    expect(() => federation({ defaultMaxPrice: 2 ** 60 })).toThrow(/defaultMaxPrice must be at most/);
    await expect(fed.searchAll('')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(fed.searchAll('quote', { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('limit must be an integer from 1 to 500 (got 0)') });
    await expect(fed.findService('quote', { limit: 501 })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('(got 501)') });
    const lone = new Agent({ name: 'lone', logger: quiet });
    lone.use(federation());
    await expect(lone.start()).rejects.toMatchObject({ message: expect.stringContaining('primary registry') });
  });
});
