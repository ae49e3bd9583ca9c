import { createServer } from 'node:net';

/**
 * A TCP port on `host` that was free a moment ago: for servers that must
 * know each other's URLs before they start (federated registries name their
 * peers in their options). Another process may take it in between, so use
 * it at once; prefer port 0 wherever the URL can be learnt after listening.
 *
 * @example
 * const port = await freePort();
 * const registry = await RegistryServer.start({ port, federation: { identity, peers } });
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
