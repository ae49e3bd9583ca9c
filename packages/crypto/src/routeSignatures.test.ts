import { Identity } from './identity';
import {
  federatedAnswerDigest,
  signAnswerHop,
  signFederatedRequest,
  signPeerList,
  signRequestHop,
  verifyPeerList,
  verifyRequestHops,
  verifyRouteReceipt,
  type FederatedAnswer,
  type FederatedRequest,
  type RouteHop,
  type RouteReceipt,
} from './routeSignatures';

const origin = Identity.generate();
const registries = [Identity.generate(), Identity.generate(), Identity.generate()];
const path = registries.map((r) => r.id);

function request(): FederatedRequest {
  return signFederatedRequest(
    {
      id: 'req-0123456789abcdef',
      origin: origin.id,
      sourceRegistry: path[0]!,
      targetRegistry: path[2]!,
      targetAgent: 'did:key:z6MkTarget',
      path,
      operation: { service: 'quote', params: { b: 2, a: [1, { y: true, x: null }] } },
      timestamp: '2026-12-03T09:00:00.000Z',
    },
    (d) => origin.sign(d),
  );
}

function route(): RouteReceipt {
  const req = request();
  const hops: RouteHop[] = [];
  for (const r of registries) hops.push(signRequestHop(req, hops, (d) => r.sign(d)));
  const answer: FederatedAnswer = { outcome: { success: true, result: { price: 7 } }, at: '2026-12-03T09:00:01.000Z' };
  const returns: RouteHop[] = [];
  for (const r of [...registries].reverse()) returns.unshift(signAnswerHop(req, hops, answer, returns, (d) => r.sign(d)));
  return { request: req, hops, answer, returns };
}

describe('route signatures (cross-registry transactions checked hop by hop from the did:keys)', () => {
  it('a complete route receipt verifies; key order in the operation does not matter', () => {
    const receipt = route();
    expect(verifyRouteReceipt(receipt)).toEqual({ valid: true });
    const reordered = { ...receipt, request: { ...receipt.request, operation: { params: { a: [1, { x: null, y: true }], b: 2 }, service: 'quote' } } };
    expect(verifyRouteReceipt(reordered)).toEqual({ valid: true });
  });

  it('an altered operation, path, answer or a missing or misplaced hop is refused, naming where', () => {
    const receipt = route();
    const altered = { ...receipt, request: { ...receipt.request, operation: { service: 'quote', params: { b: 3 } } } };
    expect(verifyRouteReceipt(altered)).toMatchObject({ valid: false, reason: expect.stringContaining('origin') });
    const answer = { ...receipt, answer: { ...receipt.answer, outcome: { success: true as const, result: { price: 1 } } } };
    expect(verifyRouteReceipt(answer)).toMatchObject({ valid: false, hop: 2, reason: expect.stringContaining('altered') });
    expect(verifyRouteReceipt({ ...receipt, hops: receipt.hops.slice(0, 2) })).toMatchObject({ valid: false });
    const swapped = { ...receipt, hops: [receipt.hops[1]!, receipt.hops[0]!, receipt.hops[2]!] };
    expect(verifyRouteReceipt(swapped)).toMatchObject({ valid: false, hop: 0 });
    const forged = { ...receipt, hops: [receipt.hops[0]!, { registry: path[1]!, signature: receipt.hops[2]!.signature }, receipt.hops[2]!] };
    expect(verifyRouteReceipt(forged)).toMatchObject({ valid: false, hop: 1 });
    expect(verifyRouteReceipt(null as unknown as RouteReceipt)).toMatchObject({ valid: false });
  });

  it('a prefix of going hops verifies on its own (what each registry checks before it signs)', () => {
    const receipt = route();
    expect(verifyRequestHops(receipt.request, receipt.hops.slice(0, 1))).toEqual({ valid: true });
    expect(federatedAnswerDigest(receipt.answer)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a peer list verifies by the registry it names and not once changed', () => {
    const r = registries[0]!;
    const list = signPeerList({ registry: r.id, url: 'http://127.0.0.1:1', peers: [{ id: path[1]!, url: 'http://127.0.0.1:2' }], issuedAt: '2026-12-03T09:00:00.000Z' }, (d) => r.sign(d));
    expect(verifyPeerList(list)).toBe(true);
    expect(verifyPeerList({ ...list, peers: [...list.peers, { id: path[2]!, url: 'http://127.0.0.1:3' }] })).toBe(false);
    expect(verifyPeerList({ ...list, registry: path[1]! })).toBe(false);
  });
});
