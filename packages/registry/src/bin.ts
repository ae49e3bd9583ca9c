#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger, toSovError } from '@sov/core';
import { Identity, RequestVerifier, isDidKey, verifyReceipt } from '@sov/crypto';
import { storeFromOption } from './internal/storeOption';
import { RegistryServer } from './registryServer';

const usage = `Usage: sov-registry [options]
  --port <0-65535>       port to listen on (SOV_REGISTRY_PORT, default 7000)
  --host <address>       interface to bind (SOV_REGISTRY_HOST, default 127.0.0.1)
  --public-url <url>     the URL agents reach the registry at (SOV_REGISTRY_PUBLIC_URL); requests signed
                         for any other authority than it or the bound address are refused (WRONG_RECEIVER)
  --data-dir <dir>       where the embedded store keeps its journal (SOV_REGISTRY_DATA_DIR, default ./sov-registry-data)
  --memory               keep everything in memory (lost on restart); the same as --store memory
  --store <kind>         embedded (default), memory, or postgres: several replicas on one database (SOV_REGISTRY_STORE);
                         postgres needs the package @sov/registry-postgres installed beside @sov/registry
  --database-url <url>   the PostgreSQL database of --store postgres (SOV_REGISTRY_DATABASE_URL)
  --database-schema <s>  its schema, the same on every replica (SOV_REGISTRY_DATABASE_SCHEMA, default sov_registry)
  --default-ttl <s>      lease length when a registration names none (default 30)
  --insecure             accept unsigned requests (local experiments only)
  --identity <file>      the registry's key file (created 0600 when missing; SOV_REGISTRY_IDENTITY): turns federation on,
                         its did:key is the registry id at /.well-known/sov-registry
  --peer <url>=<did>     a peer registry and the id it must prove (repeatable; SOV_REGISTRY_PEERS, comma-separated)
  --max-hops <n>         most registry hops a federated path may have (default 4)
  Stakes are credited with the operator token from SOV_OPERATOR_TOKEN; an encrypted identity file's passphrase is read
  from SOV_REGISTRY_PASSPHRASE.`;

function fail(message: string): never {
  console.error(`sov-registry: ${message}\n${usage}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: {
    port?: string;
    host?: string;
    'data-dir'?: string;
    'public-url'?: string;
    memory?: boolean;
    'default-ttl'?: string;
    insecure?: boolean; store?: string; 'database-url'?: string; 'database-schema'?: string;
    identity?: string;
    peer?: string[];
    'max-hops'?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: process.env.SOV_REGISTRY_PORT ?? '7000' },
        host: { type: 'string', default: process.env.SOV_REGISTRY_HOST ?? '127.0.0.1' },
        'data-dir': { type: 'string', default: process.env.SOV_REGISTRY_DATA_DIR ?? './sov-registry-data' },
        'public-url': { type: 'string', ...(process.env.SOV_REGISTRY_PUBLIC_URL ? { default: process.env.SOV_REGISTRY_PUBLIC_URL } : {}) },
        memory: { type: 'boolean', default: false },
        store: { type: 'string', ...(process.env.SOV_REGISTRY_STORE ? { default: process.env.SOV_REGISTRY_STORE } : {}) },
        'database-url': { type: 'string', ...(process.env.SOV_REGISTRY_DATABASE_URL ? { default: process.env.SOV_REGISTRY_DATABASE_URL } : {}) },
        'database-schema': { type: 'string', ...(process.env.SOV_REGISTRY_DATABASE_SCHEMA ? { default: process.env.SOV_REGISTRY_DATABASE_SCHEMA } : {}) },
        'default-ttl': { type: 'string', default: '30' },
        insecure: { type: 'boolean', default: false },
        identity: { type: 'string', ...(process.env.SOV_REGISTRY_IDENTITY ? { default: process.env.SOV_REGISTRY_IDENTITY } : {}) },
        peer: { type: 'string', multiple: true, default: (process.env.SOV_REGISTRY_PEERS ?? '').split(',').map((p) => p.trim()).filter(Boolean) },
        'max-hops': { type: 'string', default: '4' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port ?? '') || port > 65535) fail(`--port must be an integer from 0 to 65535 (got ${JSON.stringify(values.port)})`);
  const ttl = Number(values['default-ttl']);
  if (!Number.isInteger(ttl) || ttl < 1) fail(`--default-ttl must be a positive integer (got ${JSON.stringify(values['default-ttl'])})`);

  const publicUrl = values['public-url'];
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(publicUrl)) fail(`--public-url must be an http(s) URL (got ${JSON.stringify(publicUrl)})`);

  const peers = (values.peer ?? []).map((spec) => {
    const at = spec.lastIndexOf('=');
    const url = at > 0 ? spec.slice(0, at) : '';
    const id = at > 0 ? spec.slice(at + 1) : '';
    if (!/^https?:\/\/[^\s/]+/.test(url) || !isDidKey(id)) fail(`--peer must be <url>=<did:key> (got ${JSON.stringify(spec)})`);
    return { url, id };
  });
  const maxHops = Number(values['max-hops']);
  if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > 16) fail(`--max-hops must be an integer from 1 to 16 (got ${JSON.stringify(values['max-hops'])})`);
  if (peers.length && !values.identity) fail('--peer needs --identity: a federated registry signs with its own key');

  const logger = createLogger({ meta: { component: 'registry' } });
  let identity: Identity | undefined;
  if (values.identity) {
    try {
      identity = await Identity.loadOrCreate(values.identity, process.env.SOV_REGISTRY_PASSPHRASE ? { passphrase: process.env.SOV_REGISTRY_PASSPHRASE } : {});
    } catch (e) {
      console.error(`sov-registry: cannot load the identity at ${values.identity}: ${toSovError(e).message}`);
      process.exit(1);
    }
  }
  const store = await storeFromOption(
    { store: values.store, memory: values.memory ?? false, dataDir: values['data-dir']!, databaseUrl: values['database-url'], databaseSchema: values['database-schema'] },
    logger,
    fail,
  );
  let server: RegistryServer;
  try {
    server = await RegistryServer.start({
      port,
      host: values.host ?? '127.0.0.1',
      defaultTtlSec: ttl,
      ...(publicUrl !== undefined ? { publicUrl } : {}),
      logger,
      store,
      ...(values.insecure ? { insecure: true } : { verifier: new RequestVerifier(), receiptVerifier: verifyReceipt }),
      ...(process.env.SOV_OPERATOR_TOKEN ? { operatorToken: process.env.SOV_OPERATOR_TOKEN } : {}),
      ...(identity ? { federation: { identity, peers, maxHops } } : {}),
    });
  } catch (e) {
    console.error(`sov-registry: cannot start on ${values.host}:${port}: ${toSovError(e).message}`);
    process.exit(1);
  }
  if (identity) logger.info('registry federation identity', { id: identity.id, peers: peers.length });
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
