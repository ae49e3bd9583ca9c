/**
 * The reference agent alone, configured from the environment: the entry of
 * its container image. SOV_REGISTRY_URL names the registry; SOV_HOST,
 * SOV_PORT and SOV_PUBLIC_URL where it listens and what it publishes; its key
 * lives in SOV_KEY_FILE (default <SOV_DATA_DIR>/keys/agent.json, mode 0600,
 * encrypted when SOV_KEY_PASSPHRASE is set) and its state in
 * <SOV_DATA_DIR>/state. Stops gracefully on SIGTERM and SIGINT.
 */
import { toSovError } from '@sov/core';
import { Identity } from '@sov/crypto';
import { createReferenceAgent } from './referenceAgent';

async function main(): Promise<void> {
  const dataDir = process.env.SOV_DATA_DIR ?? './.sov-data';
  const identity = await Identity.loadOrCreate(process.env.SOV_KEY_FILE ?? `${dataDir}/keys/agent.json`, {
    ...(process.env.SOV_KEY_PASSPHRASE ? { passphrase: process.env.SOV_KEY_PASSPHRASE } : {}),
  });
  const { agent } = createReferenceAgent({ identity, stateDir: `${dataDir}/state`, ...(process.env.SOV_NAME ? {} : { name: 'reference-agent' }) });
  agent.shutdownOnSignals();
  await agent.start();
  agent.logger.info('reference agent running', { id: agent.id, url: agent.url });
}

main().catch((e: unknown) => {
  const err = toSovError(e);
  console.error(`reference-agent failed to start: [${err.code}] ${err.message}`);
  process.exit(1);
});
