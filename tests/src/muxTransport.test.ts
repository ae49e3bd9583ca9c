import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, PeerClient, createLogger } from '@sov/core';
import { echoAgent, metric, waitFor } from './muxEcho';

/** The caller's side of sov-mux/1 (PeerClient's default transport) against real agents and plain HTTP servers. */
const quiet = createLogger({ silent: true });
const MUX_PATH = '/sov/mux';

describe('sov-mux transport: calls multiplexed on one connection', () => {
  let peer: Awaited<ReturnType<typeof echoAgent>>;
  let client: PeerClient;
  beforeEach(async () => {
    peer = await echoAgent();
    client = new PeerClient({ timeoutMs: 5000 });
  });
  afterEach(async () => {
    await client.close();
    await peer.agent.shutdown();
  });

  it('carries many calls in flight on one connection and answers each as it finishes, in any order', async () => {
    const slow = client.call(peer.url, { service: 'x', params: { ms: 300, tag: 'slow' } });
    const order: string[] = [];
    void slow.then(() => order.push('slow'));
    const fast = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.call(peer.url, { service: 'x', params: { tag: `t${i}` } }).then((r) => (order.push('fast'), r))),
    );
    expect(fast.map((r) => (r.result as { echo: string }).echo)).toEqual(Array.from({ length: 50 }, (_, i) => `t${i}`));
    expect(order).not.toContain('slow');
    expect((await slow).result).toEqual({ echo: 'slow' });
    // Every call rode the one upgraded connection.
    expect(await metric(peer.url, 'sov_agent_mux_requests_total')).toBe(51);
    expect(await metric(peer.url, 'sov_agent_mux_connections')).toBe(1);
  });

  it('times out one call (its handler is told), and the connection goes on serving the next', async () => {
    const late = client.call(peer.url, { service: 'x', params: { ms: 2000, tag: 'late' } }, { timeoutMs: 150 });
    await expect(late).rejects.toMatchObject({ code: 'TIMEOUT', message: `POST ${peer.url}/rpc timed out after 150 ms` });
    await waitFor(() => peer.aborted.length === 1);
    expect(peer.aborted).toEqual(['late:CANCELLED']);
    expect((await client.call(peer.url, { service: 'x', params: { tag: 'after' } })).result).toEqual({ echo: 'after' });
  });

  it("ends a call at once when the caller's signal aborts (CANCELLED), and tells its handler", async () => {
    const controller = new AbortController();
    const call = client.call(peer.url, { service: 'x', params: { ms: 2000, tag: 'aborted' } }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED' });
    await waitFor(() => peer.aborted.length === 1);
    expect(peer.aborted).toEqual(['aborted:CANCELLED']);
    await expect(client.call(peer.url, { service: 'x' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('refuses an answer over the reply cap without reading it, and the connection goes on', async () => {
    await expect(client.call(peer.url, { service: 'x', params: { size: 300_000 } }, { maxResponseBytes: 100_000 })).rejects.toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
      message: expect.stringContaining('larger than 100000 bytes') as unknown,
    });
    expect((await client.call(peer.url, { service: 'x', params: { size: 10 } })).result).toBe('x'.repeat(10));
  });

  it('fails the calls in flight with NETWORK_ERROR when the receiver goes away, and reconnects for the next', async () => {
    const inFlight = client.call(peer.url, { service: 'x', params: { ms: 5000, stubborn: true } });
    await new Promise((r) => setTimeout(r, 100));
    const port = Number(new URL(peer.url).port);
    // The drain gives up on the stubborn handler (shutdownTimeoutMs), and the connection closes under the call.
    await peer.agent.shutdown();
    await expect(inFlight).rejects.toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringContaining(`POST ${peer.url}/rpc`) as unknown });
    const again = new Agent({ name: 'mux-again', logger: quiet, allowAnonymous: true, port, host: '127.0.0.1' });
    again.handle(() => ({ result: 'back' }));
    await again.start();
    try {
      expect((await client.call(peer.url, { service: 'x' })).result).toBe('back');
    } finally {
      await again.shutdown();
    }
  });

  it('fails at once with NETWORK_ERROR naming the call when nobody listens', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((r) => server.close(r));
    await expect(client.call(url, { service: 'x' })).rejects.toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringContaining(`POST ${url}/rpc`) as unknown });
  });

  it('refuses a header value with a line break before sending anything (it would end its line in the frame)', async () => {
    await expect(client.call(peer.url, { service: 'x' }, { receiver: 'did:key:z\r\nx-sov-receipt: 1' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('x-sov-receiver holds a line break') as unknown,
    });
    expect((await client.call(peer.url, { service: 'x', params: { tag: 'fine' } })).result).toEqual({ echo: 'fine' });
  });

  it('refuses a transport it does not know', () => {
    expect(() => new PeerClient({ transport: 'h3' as never })).toThrow(/transport must be 'mux' or 'http', got "h3"/);
  });
});

describe('sov-mux transport: a peer that does not speak it', () => {
  it.each([
    ['answers the upgrade 404 (an older agent)', 404],
    ['answers every request 200 (a plain HTTP server)', 200],
  ])('a peer that %s is called over HTTP, and the upgrade is not asked again on every call', async (_name, upgradeStatus) => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const ok = req.url === '/rpc' || upgradeStatus === 200;
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { success: true, result: 'plain' } : { success: false, error: { code: 'ROUTE_NOT_FOUND', message: 'no' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new PeerClient();
    try {
      for (let i = 0; i < 3; i++) expect((await client.call(url, { service: 'x' })).result).toBe('plain');
      expect(seen).toEqual([`GET ${MUX_PATH}`, 'POST /rpc', 'POST /rpc', 'POST /rpc']);
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("'http' never asks for the upgrade", async () => {
    const peer = await echoAgent();
    const client = new PeerClient({ transport: 'http' });
    try {
      expect((await client.call(peer.url, { service: 'x', params: { tag: 'h' } })).result).toEqual({ echo: 'h' });
      expect(await metric(peer.url, 'sov_agent_mux_requests_total')).toBe(0);
      expect(await metric(peer.url, 'sov_agent_mux_connections')).toBe(0);
    } finally {
      await client.close();
      await peer.agent.shutdown();
    }
  });
});
