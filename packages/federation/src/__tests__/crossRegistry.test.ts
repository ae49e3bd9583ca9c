import { PeerClient, type Agent } from '@sov/core';
import {
  Identity,
  RequestVerifier,
  signFederatedRequest,
  signPeerList,
  verifyAnswerHops,
  verifyRequestHops,
  verifyRouteReceipt,
  type FederatedRequest,
  type RouteHop,
} from '@sov/crypto';
import { RegistryServer } from '@sov/registry';
import type { FederationApi } from '../index';
import { federationNet, originAgent, quiet, serviceAgent, until, type NetRegistry } from './federationNet';

/** A line of four real registries A - B - C - D (at most 3 hops), and two that cannot peer with A. */
describe('cross-registry transactions along a line of registries', () => {
  let net: Awaited<ReturnType<typeof federationNet>>;
  let reg: Record<string, NetRegistry>;
  let target: Agent;
  let origin: Agent;
  let fed: FederationApi;
  const originIdentity = Identity.generate();
  const stranger = Identity.generate();

  beforeAll(async () => {
    net = await federationNet(['A', 'B', 'C', 'D', 'E', 'G'], [['A', 'B'], ['B', 'C'], ['C', 'D']], {
      maxHops: 3,
      // G names A rightly but A does not name G.
      oneWay: [['G', 'A']],
    });
    reg = net.reg;
    target = await serviceAgent('far-away', reg.D!.url, 'quote', { price: 5, handler: (p) => ({ quoted: (p as { n: number }).n * 2 }) });
    ({ agent: origin, fed } = await originAgent(reg.A!.url, originIdentity));
  });
  afterAll(async () => {
    await origin?.shutdown();
    await target?.shutdown();
    await net?.close();
  });

  const rpc = (identity: Identity, url: string, receiver: string, params: unknown) =>
    new PeerClient({ signer: identity.signer, timeoutMs: 5000 }).call(`${url}/v1/federation`, { service: 'route', params }, { receiver });

  function signed(path: string[], overrides: Partial<FederatedRequest> = {}): FederatedRequest {
    return signFederatedRequest(
      {
        id: `t${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`.padEnd(20, 'x'),
        origin: originIdentity.id,
        sourceRegistry: path[0]!,
        targetRegistry: path[path.length - 1]!,
        targetAgent: target.id,
        path,
        operation: { service: 'quote', params: { n: 21 } },
        timestamp: new Date().toISOString(),
        ...overrides,
      },
      (d) => originIdentity.sign(d),
    );
  }

  it('each registry shows its did:key at the well-known route and its peers at GET /v1/federation/peers', async () => {
    const known = (await (await fetch(`${reg.B!.url}/.well-known/sov-registry`)).json()) as { registry: { id: string; url: string } };
    expect(known.registry).toMatchObject({ id: reg.B!.identity.id, url: reg.B!.url });
    const peers = (await (await fetch(`${reg.B!.url}/v1/federation/peers`)).json()) as { peers: Array<{ id: string; status: string }>; list: { registry: string } };
    expect(peers.peers.map((p) => [p.id, p.status]).sort()).toEqual([[reg.A!.identity.id, 'active'], [reg.C!.identity.id, 'active']].sort());
    expect(peers.list.registry).toBe(reg.B!.identity.id);
  });

  it('answers the shortest path to a registry by id or URL, and NO_FEDERATION_PATH past the hop limit or without peering', async () => {
    const ids = ['A', 'B', 'C', 'D'].map((n) => reg[n]!.identity.id);
    expect((await fed.path(reg.D!.identity.id)).map((h) => h.id)).toEqual(ids);
    expect((await fed.path(reg.C!.url)).map((h) => h.url)).toEqual([reg.A!.url, reg.B!.url, reg.C!.url]);
    const limited = await fetch(`${reg.A!.url}/v1/federation/path?to=${encodeURIComponent(reg.D!.identity.id)}&maxHops=2`);
    expect(limited.status).toBe(404);
    expect(await limited.json()).toMatchObject({ success: false, error: { code: 'NO_FEDERATION_PATH', message: expect.stringContaining('within 2 hops') } });
    await expect(fed.path(reg.E!.identity.id)).rejects.toMatchObject({ code: 'NO_FEDERATION_PATH' });
    const bad = await fetch(`${reg.A!.url}/v1/federation/path`);
    expect(await bad.json()).toMatchObject({ success: false, error: { code: 'INVALID_INPUT', message: expect.stringContaining('/to') } });
  });

  it('a 3-hop transaction returns the result with a route receipt whose every hop signature checks', async () => {
    const out = await fed.executeCrossRegistryTransaction<{ quoted: number }>(target.id, reg.D!.identity.id, { service: 'quote', params: { n: 21 } });
    expect(out.result).toEqual({ quoted: 42 });
    const path = ['A', 'B', 'C', 'D'].map((n) => reg[n]!.identity.id);
    expect(out.receipt.request.path).toEqual(path);
    expect(out.receipt.hops.map((h) => h.registry)).toEqual(path);
    expect(out.receipt.returns.map((h) => h.registry)).toEqual(path);
    expect(verifyRouteReceipt(out.receipt)).toEqual({ valid: true });
    // Hop by hop: each prefix of the going chain, each suffix of the returning one.
    for (let i = 1; i <= 4; i++) expect(verifyRequestHops(out.receipt.request, out.receipt.hops.slice(0, i))).toEqual({ valid: true });
    for (let i = 1; i <= 4; i++) {
      expect(verifyAnswerHops(out.receipt.request, out.receipt.hops, out.receipt.answer, out.receipt.returns.slice(4 - i))).toEqual({ valid: true });
    }
    // The target agent's own receipt names the last registry as its caller.
    expect(out.receipt.answer.receipt).toMatchObject({ callee: target.id, caller: reg.D!.identity.id, service: 'quote' });
    // One forged signature anywhere is found.
    const forged = { ...out.receipt, returns: [out.receipt.returns[1]!, ...out.receipt.returns.slice(1)] };
    expect(verifyRouteReceipt(forged)).toMatchObject({ valid: false, hop: 0 });
  });

  it("an error the target agent answers comes back signed, thrown with the agent's code and the receipt", async () => {
    const failing = fed.executeCrossRegistryTransaction(target.id, reg.D!.url, { service: 'no_such_service' });
    await expect(failing).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND', details: { receipt: expect.objectContaining({ hops: expect.any(Array) }) } });
  });

  it('a target agent the last registry does not know is NOT_FOUND; an unknown registry is NO_FEDERATION_PATH', async () => {
    await expect(fed.executeCrossRegistryTransaction(stranger.id, reg.C!.identity.id, { service: 'quote' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(stranger.id),
    });
    await expect(fed.executeCrossRegistryTransaction(target.id, stranger.id, { service: 'quote' })).rejects.toMatchObject({ code: 'NO_FEDERATION_PATH' });
  });

  it('a replayed routed request is refused at the first hop, and by a later hop fed the captured request', async () => {
    const ids = ['A', 'B', 'C', 'D'].map((n) => reg[n]!.identity.id);
    const request = signed(ids);
    const first = await rpc(originIdentity, reg.A!.url, ids[0]!, { request, hops: [] });
    expect((first.result as { answer: { outcome: unknown } }).answer.outcome).toEqual({ success: true, result: { quoted: 42 } });
    await expect(rpc(originIdentity, reg.A!.url, ids[0]!, { request, hops: [] })).rejects.toMatchObject({ code: 'REPLAY_DETECTED' });
    // B's going signature, captured from the receipt, replayed to C by B itself: C has seen the id.
    const hops = (first.result as { hops: RouteHop[] }).hops;
    await expect(rpc(reg.B!.identity, reg.C!.url, ids[2]!, { request, hops: hops.slice(0, 2) })).rejects.toMatchObject({ code: 'REPLAY_DETECTED' });
  });

  it('refuses a path with a loop, more hops than the limit, and a registry that is not the next hop', async () => {
    const [a, b, c, d] = ['A', 'B', 'C', 'D'].map((n) => reg[n]!.identity.id) as [string, string, string, string];
    await expect(rpc(originIdentity, reg.A!.url, a, { request: signed([a, b, a]), hops: [] })).rejects.toMatchObject({ code: 'FEDERATION_LOOP' });
    await expect(rpc(originIdentity, reg.A!.url, a, { request: signed([a, b, c, d, stranger.id]), hops: [] })).rejects.toMatchObject({
      code: 'FEDERATION_HOP_LIMIT',
      message: expect.stringContaining('at most 3'),
    });
    // A is not hop 0 of a path that starts at B.
    await expect(rpc(originIdentity, reg.A!.url, a, { request: signed([b, c, d]), hops: [] })).rejects.toMatchObject({ code: 'FEDERATION_WRONG_HOP' });
    // A hop that comes from someone other than the previous registry of the signed path.
    const request = signed([a, b, c, d]);
    await expect(rpc(reg.D!.identity, reg.B!.url, b, { request, hops: [] })).rejects.toMatchObject({ code: 'FEDERATION_WRONG_HOP' });
    // A path that skips a hop: B is not peered with D.
    const skip = signed([b, d]);
    await expect(rpc(originIdentity, reg.B!.url, b, { request: skip, hops: [] })).rejects.toMatchObject({ code: 'NO_FEDERATION_PATH' });
  });

  it('refuses an operation changed after the origin signed it, a forged hop signature, and an unsigned or misaddressed call', async () => {
    const [a, b, c, d] = ['A', 'B', 'C', 'D'].map((n) => reg[n]!.identity.id) as [string, string, string, string];
    const request = signed([a, b, c, d]);
    const altered = { ...request, operation: { service: 'quote', params: { n: 1000 } } };
    await expect(rpc(originIdentity, reg.A!.url, a, { request: altered, hops: [] })).rejects.toMatchObject({
      code: 'ROUTE_TAMPERED',
      message: expect.stringContaining('origin'),
    });
    const fresh = signed([a, b, c, d]);
    await expect(rpc(reg.A!.identity, reg.B!.url, b, { request: fresh, hops: [{ registry: a, signature: fresh.signature }] })).rejects.toMatchObject({
      code: 'ROUTE_TAMPERED',
      message: expect.stringContaining('hop 0'),
    });
    const unsigned = await fetch(`${reg.A!.url}/v1/federation/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'route', params: {} }) });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
    await expect(rpc(originIdentity, reg.A!.url, b, { request: signed([a, b]), hops: [] })).rejects.toMatchObject({ code: 'WRONG_RECEIVER' });
    await expect(rpc(originIdentity, reg.A!.url, a, { request: { ...signed([a, b]), id: 'short' }, hops: [] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('/request/id'),
    });
    await expect(rpc(originIdentity, reg.A!.url, a, { request: signed([a, b], { timestamp: '2001-01-01T00:00:00.000Z' }), hops: [] })).rejects.toMatchObject({
      code: 'SIGNATURE_EXPIRED',
    });
  });

  it('refuses a peering that is not signed by the registry its list names, forged, unconfigured, or for another URL', async () => {
    const peer = (identity: Identity, params: unknown) =>
      new PeerClient({ signer: identity.signer, timeoutMs: 5000 }).call(`${reg.A!.url}/v1/federation`, { service: 'peer', params }, { receiver: reg.A!.identity.id });
    const listOf = (identity: Identity, url: string, registry = identity.id) =>
      signPeerList({ registry, url, peers: [{ id: reg.A!.identity.id, url: reg.A!.url }], issuedAt: new Date().toISOString() }, (d) => identity.sign(d));
    const other = Identity.generate();
    await expect(peer(stranger, { list: listOf(other, 'http://127.0.0.1:9') })).rejects.toMatchObject({ code: 'ID_MISMATCH' });
    const forged = { ...listOf(stranger, 'http://127.0.0.1:9'), peers: [] };
    await expect(peer(stranger, { list: forged })).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(peer(stranger, { list: listOf(stranger, 'http://127.0.0.1:9') })).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('not a configured peer') });
    await expect(peer(stranger, { list: listOf(stranger, reg.B!.url) })).rejects.toMatchObject({ code: 'ID_MISMATCH', message: expect.stringContaining(`configured here as ${reg.B!.identity.id}`) });
    await expect(peer(stranger, { nope: true })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      new PeerClient({ signer: stranger.signer }).call(`${reg.A!.url}/v1/federation`, { service: 'gossip', params: {} }, { receiver: reg.A!.identity.id }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('/service') });
    // Nothing changed: B is still A's only active peer.
    const body = (await (await fetch(`${reg.A!.url}/v1/federation/peers`)).json()) as { peers: Array<{ id: string; status: string }> };
    expect(body.peers).toEqual([expect.objectContaining({ id: reg.B!.identity.id, status: 'active' })]);
  });

  it('peering is mutual: a registry that names A but is not named by A stays pending with FORBIDDEN', async () => {
    await until('G tried', async () => {
      const body = (await (await fetch(`${reg.G!.url}/v1/federation/peers`)).json()) as { peers: Array<{ status: string; error?: { code: string } }> };
      return body.peers[0]?.error?.code === 'FORBIDDEN';
    });
    const body = (await (await fetch(`${reg.G!.url}/v1/federation/peers`)).json()) as { peers: Array<{ status: string }> };
    expect(body.peers[0]!.status).toBe('pending');
  });

  it('a peer that answers with another id than configured is refused (ID_MISMATCH) and never used', async () => {
    const f = await RegistryServer.start({
      verifier: new RequestVerifier(),
      logger: quiet,
      dashboard: false,
      federation: { identity: Identity.generate(), peers: [{ url: reg.A!.url, id: stranger.id }], retryMs: 50 },
    });
    try {
      await until('F refused', async () => {
        const body = (await (await fetch(`${f.url}/v1/federation/peers`)).json()) as { peers: Array<{ status: string }> };
        return body.peers[0]?.status === 'refused';
      });
      const body = (await (await fetch(`${f.url}/v1/federation/peers`)).json()) as { peers: Array<{ error?: { code: string; message: string } }> };
      expect(body.peers[0]!.error).toMatchObject({ code: 'ID_MISMATCH', message: expect.stringContaining(stranger.id) });
      const path = await fetch(`${f.url}/v1/federation/path?to=${encodeURIComponent(reg.A!.url)}`);
      expect(await path.json()).toMatchObject({ error: { code: 'NO_FEDERATION_PATH' } });
    } finally {
      await f.close();
    }
  });
});
