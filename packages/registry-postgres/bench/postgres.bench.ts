/**
 * PostgreSQL store benchmarks, each beside a baseline measured in the same run:
 * - search over HTTP with 100k agents, PostgresRegistryStore vs the embedded
 *   store (req/s, p50, p99), the registry's answer cache off on both;
 * - signed registrations per second through 1 and through 3 replicas on one
 *   database, vs one registry on the embedded store.
 * Every registry runs in its own process, as deployed; this process is the client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent as HttpAgent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { HttpRegistryClient } from '@sov/core';
import { Identity } from '@sov/crypto';
import { compareThroughput, report, reportComparison } from '@sov/tooling/bench';
import { AGENTS, CAPABILITIES, DATABASE_URL } from './benchConfig';

const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const children = new Set<ChildProcess>();
const dirs: string[] = [];
const schemas: string[] = [];

function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts bench/benchServer.ts in its own process; resolves to its port and a function that stops it. */
function start(mode: 'search' | 'replica', kind: 'postgres' | 'embedded', schema: string, dir: string, searchCacheMs = 0): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'benchServer.ts'), mode, kind, schema, dir, String(searchCacheMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      children.delete(child);
      reject(new Error(`bench server ${mode} ${kind} exited with ${code}`));
    });
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
  });
}

const serve = async (mode: 'search' | 'replica', kind: 'postgres' | 'embedded', schema: string, dir: string) => (await start(mode, kind, schema, dir)).port;

const freshSchema = () => {
  const s = `sov_bench_${randomBytes(4).toString('hex')}`;
  schemas.push(s);
  return s;
};
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sov-pg-bench-'));
  dirs.push(d);
  return d;
};

async function searchBench(): Promise<void> {
  const schema = freshSchema();
  const paths = Array.from({ length: CAPABILITIES }, (_, c) => `/v1/agents?capability=cap-${c}&minReputation=0.2&limit=20`);
  for (const [searchCacheMs, label] of [
    [0, 'answer cache off: every query reaches the store'],
    [1000, 'default answer cache of 1 s'],
  ] as const) {
    const started = Date.now();
    // The second pair finds the schema loaded; the embedded store loads again (its directory is locked by one process).
    const [postgres, embedded] = await Promise.all([start('search', 'postgres', schema, '-', searchCacheMs), start('search', 'embedded', '-', freshDir(), searchCacheMs)]);
    console.log(
      `@sov/registry-postgres: search over HTTP, ${AGENTS.toLocaleString('en-US')} agents (ready in ${((Date.now() - started) / 1000).toFixed(0)} s), ${label}, 16 concurrent, keep-alive`,
    );
    let p = 0;
    let e = 0;
    const result = await compareThroughput(
      () => get(postgres.port, paths[p++ % CAPABILITIES]!),
      () => get(embedded.port, paths[e++ % CAPABILITIES]!),
      { concurrency: 16, rounds: 5, roundMs: 1500 },
    );
    const tag = searchCacheMs ? 'cache 1 s' : 'cache off';
    reportComparison(result, { name: `search, PostgreSQL (${tag})`, unit: 'req/s', baselineName: 'embedded store' }, (pct) => ({
      name: `search ${pct}, PostgreSQL (${tag})`,
      baselineName: `embedded ${pct}`,
    }));
    postgres.stop();
    embedded.stop();
  }
}

async function registrationBench(): Promise<void> {
  const schema = freshSchema();
  const one = [await serve('replica', 'postgres', schema, '-')];
  const three = [...one, ...(await Promise.all([serve('replica', 'postgres', schema, '-'), serve('replica', 'postgres', schema, '-')]))];
  const embedded = await serve('replica', 'embedded', '-', freshDir());
  const identities = Array.from({ length: 96 }, () => Identity.generate());
  // One client per identity and replica: a request is signed for the replica it goes to.
  const clientsFor = (ports: number[]) => identities.map((id, i) => new HttpRegistryClient({ baseUrl: `http://127.0.0.1:${ports[i % ports.length]}`, signer: id.signer }));
  const registration = (id: string) => ({ id, name: 'bench', endpoint: 'http://127.0.0.1:9/', capabilities: ['x'], ttl: 600 });
  const driver = (clients: HttpRegistryClient[]) => {
    let i = 0;
    return () => {
      const k = i++ % identities.length;
      return clients[k]!.register(registration(identities[k]!.id));
    };
  };
  console.log('@sov/registry-postgres: signed registrations over HTTP (24 concurrent), replicas on one PostgreSQL');
  const single = await compareThroughput(driver(clientsFor(one)), driver(clientsFor([embedded])), { concurrency: 24, rounds: 3, roundMs: 1500 });
  report({ name: 'signed registrations, PostgreSQL, 1 replica', unit: 'req/s', value: single.subject.opsPerSec, baselineName: 'embedded store', baseline: single.baseline.opsPerSec, ratio: single.ratio });
  const spread = await compareThroughput(driver(clientsFor(three)), driver(clientsFor(one)), { concurrency: 24, rounds: 3, roundMs: 1500 });
  report({ name: 'signed registrations, PostgreSQL, 3 replicas', unit: 'req/s', value: spread.subject.opsPerSec, baselineName: '1 replica', baseline: spread.baseline.opsPerSec, ratio: spread.ratio });
}

async function main(): Promise<void> {
  try {
    if (!process.env.BENCH_REGISTRATIONS_ONLY) await searchBench();
    await registrationBench();
  } finally {
    for (const c of children) c.kill();
    keepAlive.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  }
}

void main();
