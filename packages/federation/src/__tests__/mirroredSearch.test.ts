import { createServer, connect, type Server, type Socket } from 'node:net';
import { Agent } from '@sov/core';
import { Identity, RequestVerifier, verifyReceipt } from '@sov/crypto';
import { MemoryRegistryStore, RegistryServer, type FederationPeer, type RegistryServerOptions } from '@sov/registry';
import { freePort } from '@sov/testing';
import { federation, type FederationApi } from '../index';
import { federatedSearch, federationNet, listing, quiet, until, type FederatedSearchBody, type NetRegistry } from './federationNet';
import { hostileRegistry } from './hostileRegistry';

const names = (body: FederatedSearchBody) => body.agents.map((a) => a.name).sort();

/** A TCP relay in front of a registry: `cut` drops every connection and refuses new ones, `restore` listens again on the same port. */
async function relay(target: string) {
  const port = await freePort();
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(to.port), to.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => s.destroy());
          s.on('close', () => {
            sockets.delete(s);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const cut = async () => {
    const closed = new Promise((r) => server?.close(r));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await listen();
  return { url: `http://127.0.0.1:${port}`, cut, restore: listen };
}

function registryOptions(identity: Identity, port: number, peers: FederationPeer[], extra: Partial<RegistryServerOptions> = {}, mirror = {}): RegistryServerOptions {
  return {
    port,
    verifier: new RequestVerifier(),
    receiptVerifier: verifyReceipt,
    logger: quiet,
    dashboard: false,
    rateLimit: false,
    ...extra,
    federation: { identity, peers, retryMs: 50, mirror: { maxReconnectDelayMs: 100, ...mirror } },
  };
}

async function peersOf(url: string) {
  return ((await (await fetch(`${url}/v1/federation/peers`)).json()) as { peers: Array<{ id: string; status: string; mirror?: { seeded: boolean; connected: boolean; records: number; bytes: number; dropped: number; malformed: number } }> }).peers;
}

describe("a registry's mirror of its peers (GET /v1/federation/search) along a line A - B - C", () => {
  let net: Awaited<ReturnType<typeof federationNet>>;
  let reg: Record<string, NetRegistry>;

  beforeAll(async () => {
    net = await federationNet(['A', 'B', 'C'], [['A', 'B'], ['B', 'C']]);
    reg = net.reg;
    await listing(reg.A!.url, 'on-a', 'quote', 10);
    await listing(reg.B!.url, 'on-b', 'quote', 20);
    await listing(reg.C!.url, 'on-c', 'quote', 30);
    await until('A mirrors B and B mirrors A and C', async () => names(await federatedSearch(reg.B!.url, 'capability=quote')).length === 3 && names(await federatedSearch(reg.A!.url, 'capability=quote')).length === 2);
  });
  afterAll(() => net?.close());

  it('answers from its own listings and its direct peers\' mirrors in one request, each tagged with its registry; a registry two hops away is not mirrored', async () => {
    const a = await federatedSearch(reg.A!.url, 'capability=quote');
    expect(a).toMatchObject({ status: 200, success: true, total: 2, nextCursor: null });
    expect(a.agents.map((x) => [x.name, x.registry])).toEqual(
      expect.arrayContaining([
        ['on-a', reg.A!.identity.id],
        ['on-b', reg.B!.identity.id],
      ]),
    );
    expect(names(a)).toEqual(['on-a', 'on-b']);
    expect(a.registries).toEqual([
      expect.objectContaining({ id: reg.A!.identity.id, self: true, ok: true, count: 1 }),
      expect.objectContaining({ id: reg.B!.identity.id, url: reg.B!.url, self: false, ok: true, connected: true, count: 1, lastEventAt: expect.any(String) }),
    ]);
    // B peers with both, so it answers for all three.
    expect(names(await federatedSearch(reg.B!.url, 'capability=quote'))).toEqual(['on-a', 'on-b', 'on-c']);
    // The same filters as /v1/agents, applied to the mirror too.
    expect(names(await federatedSearch(reg.A!.url, 'capability=quote&maxPrice=15'))).toEqual(['on-a']);
    expect(names(await federatedSearch(reg.A!.url, 'capability=other'))).toEqual([]);
  });

  it('a registration on B appears in A\'s federated search after its event; a metadata update follows, a deregistration disappears', async () => {
    const late = await listing(reg.B!.url, 'late-on-b', 'late');
    await until('A sees the registration on B', async () => names(await federatedSearch(reg.A!.url, 'capability=late')).includes('late-on-b'));
    await late.client.updateMetadata(late.id, { region: 'eu' });
    await until('A sees the metadata update', async () => (await federatedSearch(reg.A!.url, 'capability=late')).agents[0]?.metadata.region === 'eu');
    await late.client.deregister(late.id);
    await until('A drops the deregistered listing', async () => (await federatedSearch(reg.A!.url, 'capability=late')).agents.length === 0);
  });

  it('refuses a bad query with INVALID_INPUT naming the field, and a cursor (a federated search answers the best page only)', async () => {
    for (const [query, path] of [
      ['limit=abc', '/limit'],
      ['minReputation=2', '/minReputation'],
      ['cursor=abc', '/cursor'],
      ['colour=blue', ''],
    ] as const) {
      const body = await federatedSearch(reg.A!.url, query);
      expect(body).toMatchObject({ status: 400, success: false, error: { code: 'INVALID_INPUT' } });
      expect(body.error!.message).toContain(path);
    }
  });

  it('a client in mirror mode asks its primary once for every mirrored registry, and asks a listed registry the primary does not mirror directly', async () => {
    const client = new Agent({ name: 'client', registryUrl: reg.A!.url, identity: Identity.generate(), logger: quiet });
    const fed: FederationApi = client.use(federation({ registries: [reg.B!.url, reg.C!.url] }));
    await client.start();
    try {
      const page = await fed.searchAll('quote');
      expect(page.results.map((r) => [r.agent.name, r.registry]).sort()).toEqual([
        ['on-a', reg.A!.url],
        ['on-b', reg.B!.url],
        ['on-c', reg.C!.url],
      ]);
      const via = Object.fromEntries(page.registries.map((r) => [r.url, r.via]));
      expect(via).toEqual({ [reg.A!.url]: 'mirror', [reg.B!.url]: 'mirror', [reg.C!.url]: 'direct' });
      // Records from the mirror keep the federated answer's tag: the id of the registry that lists them.
      const fromB = page.results.find((r) => r.agent.name === 'on-b')!;
      expect(fromB.agent).toMatchObject({ registry: reg.B!.identity.id });
      // Once known, a registry outside the mirror is asked at the same time as the primary.
      fed.clearCache();
      expect((await fed.searchAll('quote')).results).toHaveLength(3);
    } finally {
      await client.shutdown();
    }
  });

  it('drops a cached answer when a mirrored registry the agent does not list reports the agent gone (peer_left)', async () => {
    const gone = await listing(reg.B!.url, 'leaving-on-b', 'leave');
    await until('A mirrors it', async () => names(await federatedSearch(reg.A!.url, 'capability=leave')).length === 1);
    const client = new Agent({ name: 'client', registryUrl: reg.A!.url, identity: Identity.generate(), logger: quiet });
    const fed = client.use(federation());
    await client.start();
    try {
      expect((await fed.searchAll('leave')).results.map((r) => r.agent.name)).toEqual(['leaving-on-b']);
      expect((await fed.searchAll('leave')).cached).toBe(true);
      // The client follows B's events (learnt from A's answer) before the agent leaves.
      await new Promise((r) => setTimeout(r, 300));
      await gone.client.deregister(gone.id);
      await until('the cached answer dropped', async () => !(await fed.searchAll('leave')).cached);
      await until('A dropped it too', async () => (await fed.searchAll('leave')).results.length === 0);
    } finally {
      await client.shutdown();
    }
  });
});

describe('a client falls back to fan-out', () => {
  it('when its primary has no federated search route (mirror: false), and when its primary is down', async () => {
    const net = await federationNet(['P', 'Q'], [['P', 'Q']], { mirror: false });
    const agents: Agent[] = [];
    try {
      await listing(net.reg.P!.url, 'on-p', 'quote');
      await listing(net.reg.Q!.url, 'on-q', 'quote');
      expect(await federatedSearch(net.reg.P!.url, 'capability=quote')).toMatchObject({ status: 404, error: { code: 'ROUTE_NOT_FOUND' } });
      const client = new Agent({ name: 'client', registryUrl: net.reg.P!.url, identity: Identity.generate(), logger: quiet });
      agents.push(client);
      const fed = client.use(federation({ registries: [net.reg.Q!.url] }));
      await client.start();
      const page = await fed.searchAll('quote');
      expect(page.results.map((r) => r.agent.name).sort()).toEqual(['on-p', 'on-q']);
      expect(page.registries.map((r) => r.via)).toEqual(['direct', 'direct']);

      const down = `http://127.0.0.1:${await freePort()}`;
      const orphan = new Agent({ name: 'orphan', identity: Identity.generate(), logger: quiet });
      agents.push(orphan);
      const fedDown = orphan.use(federation({ primary: down, registries: [net.reg.Q!.url], connectTimeoutMs: 300 }));
      await orphan.start();
      const fromQ = await fedDown.searchAll('quote');
      expect(fromQ.results.map((r) => r.agent.name)).toEqual(['on-q']);
      expect(Object.fromEntries(fromQ.registries.map((r) => [r.url, r.ok]))).toEqual({ [down]: false, [net.reg.Q!.url]: true });
    } finally {
      await Promise.all(agents.map((a) => a.shutdown().catch(() => undefined)));
      await net.close();
    }
  });

  it('refuses an unknown mode', () => {
    expect(() => federation({ mode: 'gossip' as 'mirror' })).toThrow(/mode must be 'mirror' or 'fanout'/);
  });
});

describe('a mirror whose peer stream goes down', () => {
  const idA = Identity.generate();
  const idB = Identity.generate();
  let a: RegistryServer;
  let b: RegistryServer;
  let link: Awaited<ReturnType<typeof relay>>;

  beforeAll(async () => {
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    // A reaches B only through the relay; a small replay window on B makes a long cut a resume gap.
    link = await relay(`http://127.0.0.1:${portB}`);
    [a, b] = await Promise.all([
      RegistryServer.start(registryOptions(idA, portA, [{ url: link.url, id: idB.id }], {}, { staleAfterMs: 400 })),
      RegistryServer.start(registryOptions(idB, portB, [{ url: `http://127.0.0.1:${portA}`, id: idA.id }], { store: new MemoryRegistryStore({ eventRetention: 3 }) })),
    ]);
    await until('A mirrors B', async () => (await peersOf(a.url)).some((p) => p.mirror?.seeded === true && p.mirror.connected));
  });
  afterAll(async () => {
    await link?.cut();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('is served for staleAfterMs after the cut, then left out (UNAVAILABLE); after the stream resumes the missed events are there', async () => {
    await listing(b.url, 'steady-on-b', 'steady');
    await until('A sees it', async () => names(await federatedSearch(a.url, 'capability=steady')).length === 1);
    await link.cut();
    await until('A saw the stream go down', async () => (await federatedSearch(a.url, 'capability=steady')).registries[1]?.connected === false, 2000);
    const within = await federatedSearch(a.url, 'capability=steady');
    expect(names(within)).toEqual(['steady-on-b']);
    await until('the copy turns stale', async () => (await federatedSearch(a.url, 'capability=steady')).registries[1]?.ok === false, 2000);
    const stale = await federatedSearch(a.url, 'capability=steady');
    expect(stale.agents).toEqual([]);
    expect(stale.registries[1]).toMatchObject({ ok: false, connected: false, error: { code: 'UNAVAILABLE', message: expect.stringContaining('400 ms') } });
    // While cut: one more listing (within B's replay window of 3 events).
    await listing(b.url, 'while-cut', 'steady');
    await link.restore();
    await until('A resumed', async () => names(await federatedSearch(a.url, 'capability=steady')).length === 2, 5000);
    expect((await federatedSearch(a.url, 'capability=steady')).registries[1]).toMatchObject({ ok: true, connected: true });
  });

  it('a resume gap (events gone from the peer\'s replay window) makes it take a new snapshot', async () => {
    const first = await listing(b.url, 'gap-0', 'gap');
    await until('A sees gap-0', async () => names(await federatedSearch(a.url, 'capability=gap')).length === 1);
    await link.cut();
    // More events than B retains: a resume from A's point cannot replay them all.
    await first.client.deregister(first.id);
    for (let i = 1; i <= 5; i++) await listing(b.url, `gap-${i}`, 'gap');
    await link.restore();
    await until('A re-seeded', async () => names(await federatedSearch(a.url, 'capability=gap')).join() === 'gap-1,gap-2,gap-3,gap-4,gap-5', 5000);
  });
});

describe('a peer that restarts on an empty store', () => {
  it('is followed afresh when it peers again: its old listings go, its new ones (event ids starting over) come', async () => {
    const idA = Identity.generate();
    const idB = Identity.generate();
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    const urlA = `http://127.0.0.1:${portA}`;
    const urlB = `http://127.0.0.1:${portB}`;
    const a = await RegistryServer.start(registryOptions(idA, portA, [{ url: urlB, id: idB.id }]));
    let b = await RegistryServer.start(registryOptions(idB, portB, [{ url: urlA, id: idA.id }]));
    try {
      for (let i = 0; i < 4; i++) await listing(b.url, `before-${i}`, 'restart');
      await until('A mirrors B', async () => names(await federatedSearch(a.url, 'capability=restart')).length === 4);
      await b.close();
      b = await RegistryServer.start(registryOptions(idB, portB, [{ url: urlA, id: idA.id }]));
      await until('A follows the new B', async () => (await federatedSearch(a.url, 'capability=restart')).agents.length === 0, 5000);
      // Event ids 1, 2 on the new B: below the old resume point, so only a fresh stream delivers them.
      await listing(b.url, 'after-0', 'restart');
      await listing(b.url, 'after-1', 'restart');
      await until('A sees the new listings', async () => names(await federatedSearch(a.url, 'capability=restart')).join() === 'after-0,after-1', 5000);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

/** A home registry that mirrors the stand-in of hostileRegistry.ts, for the length of `body`. */
async function mirroring(
  mirror: Record<string, number>,
  standIn: { flood?: number },
  body: (home: RegistryServer, peer: Awaited<ReturnType<typeof hostileRegistry>>, peerId: string) => Promise<void>,
): Promise<void> {
  const home = Identity.generate();
  const other = Identity.generate();
  const [homePort, otherPort] = await Promise.all([freePort(), freePort()]);
  const peer = await hostileRegistry(otherPort, other, [{ id: home.id, url: `http://127.0.0.1:${homePort}` }], standIn);
  const a = await RegistryServer.start(registryOptions(home, homePort, [{ url: peer.url, id: other.id }], {}, mirror));
  try {
    await body(a, peer, other.id);
  } finally {
    await a.close();
    await peer.close();
  }
}

describe('a peer whose events carry no record (an older registry)', () => {
  it('has each record read back after its event', () =>
    mirroring({ maxRecordsPerPeer: 100 }, { flood: 5 }, async (a, peer) => {
      // 30 valid listings from the snapshot, then 5 joined agents read back one by one.
      await until('the read-back records are mirrored', async () => (await federatedSearch(a.url, 'capability=quote&limit=500')).agents.length === 35);
      expect(peer.recordReads()).toBe(5);
    }));
});

describe('a hostile peer', () => {
  it('cannot make a mirror hold more than maxRecordsPerPeer, and its malformed records are ignored', () =>
    mirroring({ maxRecordsPerPeer: 20 }, {}, async (a, evil, hostileId) => {
      await listing(a.url, 'honest', 'quote');
      await until('the hostile peer is mirrored', async () => (await peersOf(a.url))[0]?.mirror?.seeded === true);
      // The flood of events keeps coming meanwhile.
      await until('its event flood was read', () => evil.eventsSent() >= 2000);
      await new Promise((r) => setTimeout(r, 200));
      const mirror = (await peersOf(a.url))[0]!.mirror!;
      expect(mirror.records).toBe(20);
      expect(mirror.dropped).toBeGreaterThan(0);
      expect(mirror.malformed).toBeGreaterThanOrEqual(evil.malformedIds.length);
      // Events about agents it cannot keep are dropped unread: the flood costs no request to the peer.
      expect(evil.recordReads()).toBe(0);
      const body = await federatedSearch(a.url, 'capability=quote&limit=500');
      expect(body.registries[1]).toMatchObject({ ok: true, truncated: true });
      expect(body.agents.filter((x) => x.registry === hostileId)).toHaveLength(20);
      for (const id of evil.malformedIds) expect(body.agents.map((x) => x.id)).not.toContain(id);
      // The registry itself is unharmed.
      expect(names(await federatedSearch(a.url, 'capability=quote')).filter((n) => n === 'honest')).toHaveLength(1);
    }));

  it('cannot make a mirror hold more than maxBytesPerPeer', () =>
    mirroring({ maxBytesPerPeer: 4000 }, {}, async (a) => {
      await until('the hostile peer is mirrored', async () => (await peersOf(a.url))[0]?.mirror?.seeded === true);
      const mirror = (await peersOf(a.url))[0]!.mirror!;
      expect(mirror.bytes).toBeLessThanOrEqual(4000);
      expect(mirror.records).toBeGreaterThan(0);
      expect(mirror.records).toBeLessThan(30);
      expect(mirror.dropped).toBeGreaterThan(0);
      expect((await federatedSearch(a.url, 'capability=quote&limit=500')).registries[1]).toMatchObject({ ok: true, truncated: true, count: mirror.records });
    }));
});
