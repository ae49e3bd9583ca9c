import { createServer, type Server, type ServerResponse } from 'node:http';
import { systemClock } from '@sov/core';
import { freePort } from '@sov/testing';
import { SearchClient } from './searchClient';

/** A registry stand-in that answers every request with `reply`. */
async function answering(reply: (res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => reply(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

describe('SearchClient (one registry search of a federated search)', () => {
  const servers: Server[] = [];
  const clients: SearchClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
  async function client(reply: (res: ServerResponse) => void, timeoutMs = 2000): Promise<SearchClient> {
    const { url, server } = await answering(reply);
    servers.push(server);
    const c = new SearchClient(url, timeoutMs, systemClock);
    clients.push(c);
    return c;
  }
  const json = (status: number, body: unknown) => (res: ServerResponse) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('returns the page of a registry that answers in the wire format', async () => {
    const c = await client(json(200, { success: true, agents: [], total: 0, nextCursor: null }));
    await expect(c.search({ capabilities: ['x'] })).resolves.toEqual({ agents: [], total: 0, nextCursor: null });
  });

  it("throws the registry's own code and message for a wire failure", async () => {
    const c = await client(json(400, { success: false, error: { code: 'INVALID_INPUT', message: 'bad maxPrice' } }));
    await expect(c.search({ maxPrice: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('bad maxPrice') });
  });

  it('refuses a body that is not JSON, or JSON that is not a search page, with REMOTE_ERROR', async () => {
    const junk = await client((res) => res.end('<html>proxy error</html>'));
    await expect(junk.search({})).rejects.toMatchObject({ code: 'REMOTE_ERROR', message: expect.stringContaining('not a JSON answer') });
    const other = await client(json(200, { success: true, something: 'else' }));
    await expect(other.search({})).rejects.toMatchObject({ code: 'REMOTE_ERROR', message: expect.stringContaining('not a search page') });
  });

  it('refuses a body over 8 MiB with RESPONSE_TOO_LARGE', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024 + 10, 0x20);
    const c = await client((res) => res.writeHead(200, { 'content-type': 'application/json' }).end(big));
    await expect(c.search({})).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
  });

  it('ends a search that gets no answer with TIMEOUT, and one to a closed port with NETWORK_ERROR', async () => {
    const silent = await client(() => undefined, 200);
    await expect(silent.search({})).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('200 ms') });
    const closed = new SearchClient(`http://127.0.0.1:${await freePort()}`, 1000, systemClock);
    clients.push(closed);
    await expect(closed.search({})).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });
});
