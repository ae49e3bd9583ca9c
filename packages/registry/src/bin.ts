#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger, toSovError } from '@sov/core';
import { RegistryServer } from './registryServer';

const usage = 'Usage: sov-registry [--port <0-65535>] [--host <address>] [--default-ttl <seconds>]';

async function main(): Promise<void> {
  let values: { port?: string; host?: string; 'default-ttl'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: process.env.SOV_REGISTRY_PORT ?? '7000' },
        host: { type: 'string', default: process.env.SOV_REGISTRY_HOST ?? '127.0.0.1' },
        'default-ttl': { type: 'string', default: '30' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`sov-registry: ${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`sov-registry: --port must be an integer from 0 to 65535 (got ${JSON.stringify(values.port)})\n${usage}`);
    process.exit(2);
  }
  const ttl = Number(values['default-ttl']);
  if (!Number.isInteger(ttl) || ttl < 1) {
    console.error(`sov-registry: --default-ttl must be a positive integer (got ${JSON.stringify(values['default-ttl'])})\n${usage}`);
    process.exit(2);
  }
  const logger = createLogger({ meta: { component: 'registry' } });
  let server: RegistryServer;
  try {
    server = await RegistryServer.start({ port, host: values.host ?? '127.0.0.1', defaultTtlSec: ttl, logger });
  } catch (e) {
    console.error(`sov-registry: cannot listen on ${values.host}:${port}: ${toSovError(e).message}`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    logger.info('stopping', { signal });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
