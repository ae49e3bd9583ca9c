/**
 * Registry benchmarks, each beside a baseline measured in the same run:
 * - search over HTTP with 100k registered agents vs a static fastify JSON
 *   route returning a body of the same size (throughput and p50/p99);
 * - signed registrations per second vs unsigned ones (the cost of checking
 *   every signature).
 */
import { spawn } from 'node:child_process';
import { Agent as HttpAgent, request } from 'node:http';
import { join } from 'node:path';
import { createLogger, HttpRegistryClient } from '@sov/core';
import { Identity, RequestVerifier } from '@sov/crypto';
import { compareThroughput, report } from '@sov/tooling/bench';
import { RegistryServer } from '@sov/registry';
import { AGENTS, CAPS } from './searchServer';
const silent = createLogger({ silent: true });
const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 32 });

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
      let size = 0;
      res.on('data', (c: Buffer) => (size += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(size) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts bench/searchServer.ts in its own process and resolves to its port. */
function serve(...args: string[]): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : []), '--import', 'tsx', join(import.meta.dirname, 'searchServer.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`search server ${args[0]} exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
  });
}

async function searchBench(searchCacheMs: number, label: string): Promise<void> {
  // Each server runs in its own process, as deployed; this process is the client.
  const registry = await serve('registry', String(searchCacheMs));
  // Queries rotate over every capability, so the figure is not one hot entry.
  const paths = Array.from({ length: CAPS }, (_, c) => `/v1/agents?capability=cap-${c}&minReputation=0.2&limit=20`);
  let q = 0;
  const size = await get(registry.port, paths[7]!);
  const staticServer = await serve('static', String(size));

  console.log(`@sov/registry: search over HTTP, ${AGENTS.toLocaleString('en-US')} agents, ${size} B body, ${label} (16 concurrent, keep-alive)`);
  const { subject, baseline, ratio } = await compareThroughput(() => get(registry.port, paths[q++ % CAPS]!), () => get(staticServer.port, '/static'), {
    concurrency: 16,
    rounds: 5,
    roundMs: 1000,
  });
  report({ name: `search (${label})`, unit: 'req/s', value: subject.opsPerSec, baselineName: 'static fastify route', baseline: baseline.opsPerSec, ratio, target: { better: 'higher', ratio: 0.5 } });
  report({ name: `search p50 (${label})`, unit: 'ms', value: subject.p50Ms, baselineName: 'static p50', baseline: baseline.p50Ms });
  report({ name: `search p99 (${label})`, unit: 'ms', value: subject.p99Ms, baselineName: 'static p99', baseline: baseline.p99Ms, target: { better: 'lower', ratio: 2 } });
  staticServer.stop();
  registry.stop();
}

async function registrationBench(): Promise<void> {
  const signed = await RegistryServer.start({ verifier: new RequestVerifier(), logger: silent, rateLimit: false });
  const open = await RegistryServer.start({ insecure: true, logger: silent, rateLimit: false });
  const identities = Array.from({ length: 64 }, () => Identity.generate());
  const signedClients = identities.map((id) => new HttpRegistryClient({ baseUrl: signed.url, signer: id.signer }));
  const openClients = identities.map(() => new HttpRegistryClient({ baseUrl: open.url }));
  let i = 0;
  let j = 0;
  const registration = (id: string) => ({ id, name: 'bench', endpoint: 'http://127.0.0.1:9', capabilities: ['x'], ttl: 60 });
  console.log('@sov/registry: registrations over HTTP (16 concurrent)');
  const { subject, baseline } = await compareThroughput(
    () => {
      const k = i++ % identities.length;
      return signedClients[k]!.register(registration(identities[k]!.id));
    },
    () => {
      const k = j++ % identities.length;
      return openClients[k]!.register(registration(identities[k]!.id));
    },
    { concurrency: 16, rounds: 3, roundMs: 1000 },
  );
  report({ name: 'signed registrations', unit: 'req/s', value: subject.opsPerSec, baselineName: 'unsigned (insecure mode)', baseline: baseline.opsPerSec });
  await signed.close();
  await open.close();
}

async function main(): Promise<void> {
  await searchBench(1000, 'default: answers reused for up to 1 s');
  await searchBench(0, 'answer cache off: every query searched');
  if (!process.env.BENCH_SEARCH_ONLY) await registrationBench();
  keepAlive.destroy();
}

void main();
