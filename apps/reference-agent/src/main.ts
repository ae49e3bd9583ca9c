/**
 * The long-running reference deployment: a registry and the reference agent,
 * `/health` on 8080 (SOV_PORT), stopping cleanly on SIGTERM and SIGINT.
 */
import { createLogger, toSovError } from '@sov/core';
import { RegistryServer } from '@sov/registry';
import { createUppercaseAgent } from './uppercaseAgent';

async function main(): Promise<void> {
  const logger = createLogger({ meta: { app: 'reference-agent' } });
  const registryPort = Number(process.env.SOV_REGISTRY_PORT ?? 7000);
  const registry = await RegistryServer.start({ host: '127.0.0.1', port: registryPort, logger: logger.child({ component: 'registry' }) });
  const agent = createUppercaseAgent({
    name: 'reference-agent',
    registryUrl: process.env.SOV_REGISTRY_URL ?? registry.url,
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
  logger.info('reference agent running', { health: `${agent.url}/health`, registry: registry.url });
}

main().catch((e: unknown) => {
  const err = toSovError(e);
  console.error(`reference-agent failed to start: [${err.code}] ${err.message}`);
  process.exit(1);
});
