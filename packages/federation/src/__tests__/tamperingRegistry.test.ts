import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PeerClient, isSovError, toSovError, type Agent } from '@sov/core';
import { Identity, signAnswerHop, signPeerList, signRequestHop, type FederatedAnswer, type FederatedRequest, type RouteHop } from '@sov/crypto';
import type { FederationApi } from '../index';
import { freePort } from '@sov/testing';
import { federationNet, originAgent, serviceAgent, until, type NetRegistry } from './federationNet';

type Mode = 'honest' | 'operation' | 'answer';

/**
 * A middle registry that speaks the protocol with its own valid key but
 * alters what passes through it: the operation going, or the answer returning.
 */
async function tamperingRegistry(port: number, identity: Identity, peers: () => Array<{ id: string; url: string }>) {
  const state = { mode: 'honest' as Mode };
  const url = `http://127.0.0.1:${port}`;
  const client = new PeerClient({ signer: identity.signer, timeoutMs: 5000 });
  const sign = (d: Uint8Array) => identity.sign(d);
  const list = () => signPeerList({ registry: identity.id, url, peers: peers(), issuedAt: new Date().toISOString() }, sign);
  const send = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (req.method === 'GET' && req.url === '/v1/federation/peers') return send(res, 200, { success: true, list: list() });
        // It lists no agents of its own and serves no event stream (the mirrors of A and C get a refusal and retry).
        if (req.method === 'GET') return send(res, 404, { success: false, error: { code: 'ROUTE_NOT_FOUND', message: `No route GET ${req.url}` } });
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { service: string; params: { request: FederatedRequest; hops: RouteHop[] } };
        if (body.service === 'peer') return send(res, 200, { success: true, result: { list: list() } });
        let request = body.params.request;
        if (state.mode === 'operation') request = { ...request, operation: { ...request.operation, params: { n: 1_000_000 } } };
        const hops = [...body.params.hops, signRequestHop(request, body.params.hops, sign)];
        const next = peers().find((p) => p.id === request.path[hops.length])!;
        try {
          const reply = await client.call(`${next.url}/v1/federation`, { service: 'route', params: { request, hops } }, { receiver: next.id });
          const down = reply.result as { hops: RouteHop[]; answer: FederatedAnswer; returns: RouteHop[] };
          const answer: FederatedAnswer = state.mode === 'answer' ? { ...down.answer, outcome: { success: true, result: { quoted: 1 } } } : down.answer;
          const mine = signAnswerHop(request, down.hops, answer, down.returns, sign);
          send(res, 200, { success: true, result: { hops: down.hops, answer, returns: [mine, ...down.returns] } });
        } catch (e) {
          const err = isSovError(e) ? e : toSovError(e);
          send(res, err.status, err.toWire());
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { state, url, close: async () => { await client.close(); await new Promise((r) => server.close(r)); } };
}

describe('a middle registry that alters a transaction is detected', () => {
  const middle = Identity.generate();
  let evil: Awaited<ReturnType<typeof tamperingRegistry>>;
  let net: Awaited<ReturnType<typeof federationNet>>;
  let reg: Record<string, NetRegistry>;
  let target: Agent;
  let origin: Agent;
  let fed: FederationApi;
  let served = 0;

  beforeAll(async () => {
    const port = await freePort();
    const m = { url: `http://127.0.0.1:${port}`, id: middle.id };
    let peersOfMiddle: Array<{ id: string; url: string }> = [];
    evil = await tamperingRegistry(port, middle, () => peersOfMiddle);
    // A and C peer only with the middle one: the path A -> M -> C is the only one.
    net = await federationNet(['A', 'C'], [], { extraPeers: { A: [m], C: [m] } });
    reg = net.reg;
    peersOfMiddle = [
      { id: reg.A!.identity.id, url: reg.A!.url },
      { id: reg.C!.identity.id, url: reg.C!.url },
    ];
    await until('A and C peered with the middle registry', async () => {
      for (const r of [reg.A!, reg.C!]) {
        const body = (await (await fetch(`${r.url}/v1/federation/peers`)).json()) as { peers: Array<{ status: string }> };
        if (body.peers[0]?.status !== 'active') return false;
      }
      return true;
    });
    target = await serviceAgent('far', reg.C!.url, 'quote', {
      handler: (p) => {
        served++;
        return { quoted: (p as { n: number }).n * 2 };
      },
    });
    ({ agent: origin, fed } = await originAgent(reg.A!.url));
  });
  afterAll(async () => {
    await origin?.shutdown();
    await target?.shutdown();
    await net?.close();
    await evil?.close();
  });

  it('through an honest middle registry the 2-hop transaction verifies', async () => {
    evil.state.mode = 'honest';
    const out = await fed.executeCrossRegistryTransaction(target.id, reg.C!.identity.id, { service: 'quote', params: { n: 4 } });
    expect(out.result).toEqual({ quoted: 8 });
    expect(out.path.map((h) => h.id)).toEqual([reg.A!.identity.id, middle.id, reg.C!.identity.id]);
  });

  it('an operation altered on the way is refused by the next registry (ROUTE_TAMPERED) and never served', async () => {
    evil.state.mode = 'operation';
    const before = served;
    await expect(fed.executeCrossRegistryTransaction(target.id, reg.C!.identity.id, { service: 'quote', params: { n: 4 } })).rejects.toMatchObject({
      code: 'ROUTE_TAMPERED',
      message: expect.stringContaining('origin'),
    });
    expect(served).toBe(before);
  });

  it("an answer altered on the way back is refused by the origin's check of the route receipt (ROUTE_TAMPERED, naming the hop)", async () => {
    evil.state.mode = 'answer';
    await expect(fed.executeCrossRegistryTransaction(target.id, reg.C!.identity.id, { service: 'quote', params: { n: 4 } })).rejects.toMatchObject({
      code: 'ROUTE_TAMPERED',
      message: expect.stringMatching(/route receipt .* countersignature by did:key:\S+ \(hop 2\) does not verify: the answer was altered after it/),
      details: { hop: 2 },
    });
  });
});
