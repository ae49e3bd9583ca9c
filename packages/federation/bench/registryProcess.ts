/**
 * Federated registries for the bench, in their own process: argv[2] is a
 * JSON array of { port, keyFile, peers: [{ url, id }] }, one entry per
 * registry this process hosts. Prints a JSON array of their URLs once all listen.
 */
import { createLogger } from '@sov/core';
import { Identity, RequestVerifier, verifyReceipt } from '@sov/crypto';
import { RegistryServer, type FederationPeer } from '@sov/registry';

const configs = JSON.parse(process.argv[2]!) as Array<{ port: number; keyFile: string; peers: FederationPeer[] }>;
const servers = await Promise.all(
  configs.map(async ({ port, keyFile, peers }) =>
    RegistryServer.start({
      port,
      verifier: new RequestVerifier(),
      receiptVerifier: verifyReceipt,
      logger: createLogger({ silent: true }),
      dashboard: false,
      rateLimit: false,
      federation: { identity: await Identity.load(keyFile), peers, retryMs: 50 },
    }),
  ),
);
console.log(JSON.stringify(servers.map((s) => s.url)));
process.on('SIGTERM', () => void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0)));
