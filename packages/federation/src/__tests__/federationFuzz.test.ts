import { PeerClient, isSovError } from '@sov/core';
import { Identity, signFederatedRequest } from '@sov/crypto';
import { federationNet, serviceAgent } from './federationNet';

/** A small seeded generator, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function value(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 5 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: return Math.floor(rand() * 2 ** 40) * (rand() < 0.5 ? -1 : 1);
    case 3: return 'x'.repeat(Math.floor(rand() * 200));
    case 4: return `did:key:z6Mk${Math.floor(rand() * 1e9).toString(36)}`;
    case 5: return Array.from({ length: Math.floor(rand() * 4) }, () => value(rand, depth + 1));
    default: {
      const keys = ['request', 'hops', 'list', 'path', 'operation', 'id', 'origin', 'signature', 'registry', 'service', 'params', 'timestamp'];
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [keys[Math.floor(rand() * keys.length)]!, value(rand, depth + 1)]));
    }
  }
}

describe('federation routes under arbitrary input', () => {
  it('answer every malformed or forged call with a 4xx in the wire format and keep routing', async () => {
    const net = await federationNet(['A', 'B'], [['A', 'B']]);
    const { A, B } = net.reg as Record<'A' | 'B', (typeof net.reg)[string]>;
    const target = await serviceAgent('echo', B.url, 'echo', { handler: (p) => p });
    const stranger = Identity.generate();
    const client = new PeerClient({ signer: stranger.signer, timeoutMs: 5000 });
    const rand = prng(13);
    try {
      for (let i = 0; i < 300; i++) {
        const service = rand() < 0.45 ? 'route' : rand() < 0.8 ? 'peer' : value(rand);
        let params = value(rand);
        if (service === 'route' && rand() < 0.6) {
          // Signed requests, each with one thing wrong that the schema lets through (or none).
          const base = {
            id: `fuzz${i}`.padEnd(20, '0'),
            origin: stranger.id,
            sourceRegistry: A.identity.id,
            targetRegistry: B.identity.id,
            targetAgent: target.id,
            path: [A.identity.id, B.identity.id],
            operation: { service: 'echo', params: value(rand) },
            timestamp: new Date().toISOString(),
          };
          const mutation = Math.floor(rand() * 8);
          if (mutation === 1) base.path = [A.identity.id, B.identity.id, A.identity.id];
          if (mutation === 2) base.path = [A.identity.id, ...Array.from({ length: 6 }, () => Identity.generate().id)];
          if (mutation === 3) base.timestamp = new Date(Date.now() - 3_600_000).toISOString();
          if (mutation === 4) base.id = 'fuzz-replayed-00000';
          if (mutation === 5) base.path = [B.identity.id, A.identity.id];
          const request = signFederatedRequest({ ...base, targetRegistry: base.path[base.path.length - 1]!, sourceRegistry: base.path[0]! }, (d) => stranger.sign(d));
          const altered = mutation === 6 ? { ...request, operation: { service: 'echo', params: value(rand) } } : request;
          const hops = mutation === 7 ? [{ registry: A.identity.id, signature: request.signature }] : [];
          params = { request: altered, hops };
        }
        try {
          await client.call(`${A.url}/v1/federation`, { service, params } as Record<string, unknown>, { receiver: A.identity.id });
        } catch (e) {
          if (!isSovError(e)) throw e;
          const status = (e as { status?: number }).status ?? 0;
          expect({ i, status, code: e.code, ok: status >= 400 && status < 500 }).toMatchObject({ i, ok: true });
        }
      }
      // Raw bytes, unsigned.
      for (let i = 0; i < 30; i++) {
        const body = Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
        const res = await fetch(`${A.url}/v1/federation/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(await res.json()).toMatchObject({ success: false, error: { code: expect.any(String) } });
      }
      // Still routing: a real transaction from a signed origin goes through.
      const origin = Identity.generate();
      const request = signFederatedRequest(
        {
          id: 'after-the-fuzz-0001',
          origin: origin.id,
          sourceRegistry: A.identity.id,
          targetRegistry: B.identity.id,
          targetAgent: target.id,
          path: [A.identity.id, B.identity.id],
          operation: { service: 'echo', params: { ok: true } },
          timestamp: new Date().toISOString(),
        },
        (d) => origin.sign(d),
      );
      const reply = await new PeerClient({ signer: origin.signer }).call(`${A.url}/v1/federation`, { service: 'route', params: { request, hops: [] } }, { receiver: A.identity.id });
      expect((reply.result as { answer: { outcome: unknown } }).answer.outcome).toEqual({ success: true, result: { ok: true } });
    } finally {
      await client.close();
      await target.shutdown();
      await net.close();
    }
  }, 60_000);
});
