import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRegistryClient, createLogger, isNetworkError, isRemoteError, isTimeoutError } from '@sov/core';
import { RegistryServer } from '@sov/registry';

const silent = createLogger({ silent: true });

describe('HttpRegistryClient against the real registry', () => {
  let registry: RegistryServer;
  let client: HttpRegistryClient;
  beforeAll(async () => {
    registry = await RegistryServer.start({ logger: silent, insecure: true });
    client = new HttpRegistryClient({ baseUrl: registry.url, timeoutMs: 2000 });
  });
  afterAll(() => registry.close());

  const reg = (id: string, capabilities: string[]) => ({ id, name: id, endpoint: `http://127.0.0.1:1/${id}`, capabilities, ttl: 30 });

  it('registers, heartbeats, gets, searches and deregisters', async () => {
    const { agent, lease } = await client.register(reg('alpha', ['math', 'stats']));
    expect(agent).toMatchObject({ id: 'alpha', capabilities: ['math', 'stats'], reputation: 0.5 });
    expect(lease.ttl).toBe(30);
    const renewed = await client.heartbeat('alpha');
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThanOrEqual(Date.parse(lease.expiresAt));
    expect((await client.get('alpha')).endpoint).toBe('http://127.0.0.1:1/alpha');
    await client.register(reg('beta', ['math']));
    const page = await client.search({ capabilities: ['math'], limit: 1 });
    expect(page.total).toBe(2);
    expect(page.agents).toHaveLength(1);
    const rest = await client.search({ capabilities: ['math'], limit: 1, cursor: page.nextCursor! });
    expect(rest.nextCursor).toBeNull();
    expect([page.agents[0]!.id, rest.agents[0]!.id].sort()).toEqual(['alpha', 'beta']);
    await client.deregister('alpha');
    await client.deregister('beta');
    expect((await client.search({ capabilities: ['math'] })).total).toBe(0);
  });

  it('throws the registry code for an unknown agent and for bad input', async () => {
    const missing = await client.get('nobody').catch((e: unknown) => e);
    expect(isRemoteError(missing)).toBe(true);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    await expect(client.heartbeat('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const bad = await client.register({ ...reg('x', []), endpoint: 'not a url' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'INVALID_INPUT' });
    expect((bad as Error).message).toContain('/endpoint');
    await expect(client.search({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('never hangs: a registry that does not answer times out', async () => {
    const hanging: Server = createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const port = (hanging.address() as AddressInfo).port;
    const slow = new HttpRegistryClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200 });
    const t0 = Date.now();
    const error = await slow.search({}).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    hanging.closeAllConnections();
    await new Promise((r) => hanging.close(r));
  });

  it('reports a registry that is not there as a network error naming the URL', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const gone = new HttpRegistryClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 1000 });
    const error = await gone.get('a').catch((e: unknown) => e);
    expect(isNetworkError(error)).toBe(true);
    expect((error as Error).message).toContain(`GET http://127.0.0.1:${port}/v1/agents/a`);
  });
});
