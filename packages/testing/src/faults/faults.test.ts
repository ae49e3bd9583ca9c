import { FaultProxy } from './faultProxy';
import { FaultyPeer } from './faultyPeer';

const rpc = (url: string, params: unknown = 'hi', signal?: AbortSignal) =>
  fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'echo', params }), ...(signal ? { signal } : {}) });

describe('FaultyPeer', () => {
  let peer: FaultyPeer;
  beforeEach(async () => (peer = await FaultyPeer.start()));
  afterEach(() => peer.close());

  it('answers the agent wire normally', async () => {
    const res = await rpc(peer.url, { n: 1 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, result: { n: 1 } });
    expect(peer.requests).toBe(1);
  });

  it('injects errors with Retry-After for the next n requests, then behaves', async () => {
    peer.inject({ type: 'error', status: 429, retryAfterSec: 2 }, { times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await rpc(peer.url);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(await res.json()).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
    }
    expect((await rpc(peer.url)).status).toBe(200);
  });

  it('adds latency, drops connections and hangs', async () => {
    peer.inject({ type: 'latency', ms: 100 }, { times: 1 });
    const t0 = Date.now();
    expect((await rpc(peer.url)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);

    peer.inject({ type: 'drop' }, { times: 1 });
    await expect(rpc(peer.url)).rejects.toThrow('fetch failed');

    peer.inject({ type: 'hang' });
    const hung = rpc(peer.url, 'x', AbortSignal.timeout(150));
    await expect(hung).rejects.toMatchObject({ name: 'TimeoutError' });
    peer.clear();
    expect((await rpc(peer.url)).status).toBe(200);
  });
});

describe('FaultProxy', () => {
  it('drops connections until it has a target, then forwards, with faults on demand', async () => {
    const peer = await FaultyPeer.start({ handler: () => 'from upstream' });
    const proxy = await FaultProxy.start();
    try {
      await expect(rpc(proxy.url)).rejects.toThrow('fetch failed');
      proxy.setTarget(peer.url);
      const res = await rpc(proxy.url);
      expect(await res.json()).toEqual({ success: true, result: 'from upstream' });
      proxy.inject({ type: 'error', status: 503 }, { times: 1 });
      expect((await rpc(proxy.url)).status).toBe(503);
      expect(peer.requests).toBe(1);
      await peer.close();
      const down = await rpc(proxy.url);
      expect(down.status).toBe(502);
      expect(await down.json()).toMatchObject({ error: { code: 'NETWORK_ERROR' } });
    } finally {
      await proxy.close();
      await peer.close().catch(() => undefined);
    }
  });
});
