/**
 * The long-running reference deployment: a registry (port 7000, signatures
 * required, embedded durable store) and the reference agent (`/health` on
 * 8080, or SOV_PORT), with its key in ./keys/agent.json (mode 0600).
 * Stops cleanly on SIGTERM and SIGINT.
 */
import { createLogger, toSovError } from '@sov/core';
import { Identity, RequestVerifier, verifyReceipt } from '@sov/crypto';
import { EmbeddedRegistryStore, RegistryServer } from '@sov/registry';
import { createReferenceAgent } from './referenceAgent';

async function main(): Promise<void> {
  const logger = createLogger({ meta: { app: 'reference-agent' } });
  const registryPort = Number(process.env.SOV_REGISTRY_PORT ?? 7000);
  const dataDir = process.env.SOV_DATA_DIR ?? './.sov-data';
  const registry = await RegistryServer.start({
    host: '127.0.0.1',
    port: registryPort,
    logger: logger.child({ component: 'registry' }),
    verifier: new RequestVerifier(),
    receiptVerifier: verifyReceipt,
    store: new EmbeddedRegistryStore({ dir: `${dataDir}/registry` }),
    ...(process.env.SOV_OPERATOR_TOKEN ? { operatorToken: process.env.SOV_OPERATOR_TOKEN } : {}),
  });
  const identity = await Identity.loadOrCreate(process.env.SOV_KEY_FILE ?? `${dataDir}/keys/agent.json`, {
    ...(process.env.SOV_KEY_PASSPHRASE ? { passphrase: process.env.SOV_KEY_PASSPHRASE } : {}),
  });
  const { agent } = createReferenceAgent({
    name: 'reference-agent',
    identity,
    registryUrl: process.env.SOV_REGISTRY_URL ?? registry.url,
    stateDir: `${dataDir}/state`,
    // SOV_PORT, when set, wins over the default 8080.
    ...(process.env.SOV_PORT ? {} : { port: 8080 }),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    await agent.shutdown(signal);
    await registry.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await agent.start();
  logger.info('reference agent running', { id: agent.id, health: `${agent.url}/health`, registry: registry.url });
}

main().catch((e: unknown) => {
  const err = toSovError(e);
  console.error(`reference-agent failed to start: [${err.code}] ${err.message}`);
  process.exit(1);
});
