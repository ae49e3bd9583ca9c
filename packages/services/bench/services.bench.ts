/**
 * Services benchmarks, each beside a baseline measured in the same run:
 * - signed service calls between two processes (an agent with the router,
 *   called by an agent with an identity) vs a bare fastify + undici echo that
 *   signs and verifies inline with cached Ed25519 KeyObjects; and the ratio
 *   to a bare, unsigned echo;
 *   (plus, to show where the time goes, the same agent server called by a
 *   bare undici client signing with the same identity);
 * - in-process handleRequest (input and output validated) vs the raw
 *   compiled Ajv validators around the same handler: the target on the
 *   guide's process_data over a data set (1,000 readings); for 64 readings
 *   and a tiny echo, where the router's fixed cost per call shows, the
 *   figures and that cost in ns are printed without the target;
 * - the tiny echo with zod validators (Standard Schema) vs with its JSON
 *   Schemas (Ajv), through handleRequest;
 * - invalid-input requests per second vs valid ones;
 * - cached calls (the guide's PerformantAgent.cached_request): agent.call
 *   with callCache() to a service declared cacheable vs the same call to the
 *   same service uncached, between two processes; the callee's own cache
 *   alone (no callCache) over HTTP; and handleRequest answered from the
 *   router's cache vs running the handler, in process.
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { join } from 'node:path';
import Ajv from 'ajv';
import { z } from 'zod';
import { Pool } from 'undici';
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { compareThroughput, report, reportComparison, reportPlain } from '@sov/tooling/bench';
import { ServiceRouter, callCache, type ServiceDefinition } from '@sov/services';
import { processDataService } from '../src/__tests__/routerFixtures';
import { echoService } from './echoService';

const CONCURRENCY = 16;
const params = { text: 'hello, sovereign world', tags: ['a', 'b'] };

/** Starts bench/echoServers.ts in its own process and resolves to its port. */
function serve(mode: string): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'echoServers.ts'), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
  });
}

/** A bare undici client for the baselines; signs inline when asked, with a key parsed once. */
function bareClient(port: number, signed: boolean): () => Promise<unknown> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = publicKey.export({ format: 'der', type: 'spki' }).toString('base64url');
  return async () => {
    const body = JSON.stringify({ service: 'echo', params });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signed) {
      const created = String(Math.floor(Date.now() / 1000));
      const digest = createHash('sha256').update(body).digest('base64');
      headers['x-key-id'] = keyId;
      headers['x-created'] = created;
      headers['x-signature'] = sign(null, Buffer.from(`POST\n/rpc\n${digest}\n${created}`), privateKey).toString('base64url');
    }
    const res = await pool.request({ method: 'POST', path: '/rpc', headers, body });
    const reply = (await res.body.json()) as { success: boolean };
    if (res.statusCode !== 200 || !reply.success) throw new Error(`bare echo answered ${res.statusCode}`);
    return reply;
  };
}

async function overHttp(): Promise<boolean> {
  const [agentServer, signedServer, bare] = await Promise.all([serve('agent'), serve('bare-signed'), serve('bare')]);
  const client = new Agent({ name: 'bench-client', identity: Identity.generate(), logger: createLogger({ silent: true }) });
  await client.initialize();
  const target = `http://127.0.0.1:${agentServer.port}`;
  const agentCall = () => client.call(target, 'echo', params);
  const signedCall = bareClient(signedServer.port, true);
  const bareCall = bareClient(bare.port, false);

  console.log(`@sov/services: signed service calls between two processes on loopback (${CONCURRENCY} concurrent, keep-alive)`);
  const signed = await compareThroughput(agentCall, signedCall, { concurrency: CONCURRENCY, rounds: 4, roundMs: 1200 });
  const ok = reportComparison(
    signed,
    { name: 'agent.call -> serviceRouter', unit: 'calls/s', baselineName: 'bare fastify+undici, inline Ed25519', target: { better: 'higher', ratio: 0.8 } },
    (p) => ({ name: `agent.call ${p}`, baselineName: `bare signed ${p}` }),
  );
  const unsigned = await compareThroughput(agentCall, bareCall, { concurrency: CONCURRENCY, rounds: 3, roundMs: 800 });
  report({
    name: 'agent.call -> serviceRouter',
    unit: 'calls/s',
    value: unsigned.subject.opsPerSec,
    baselineName: 'bare fastify+undici, unsigned',
    baseline: unsigned.baseline.opsPerSec,
    ratio: unsigned.ratio,
  });
  // Where the time goes: the same agent server, called without ky/fetch.
  const identity = Identity.generate();
  const pool = new Pool(target, { connections: CONCURRENCY, pipelining: 1 });
  const url = `${target}/rpc`;
  const undiciToAgent = async () => {
    const body = JSON.stringify({ service: 'echo', params });
    const headers = { 'content-type': 'application/json', ...(identity.signer.sign({ method: 'POST', url, body: Buffer.from(body), headers: {} })) };
    const res = await pool.request({ method: 'POST', path: '/rpc', headers, body });
    const reply = (await res.body.json()) as { success: boolean };
    if (!reply.success) throw new Error('agent answered a failure');
  };
  const split = await compareThroughput(undiciToAgent, signedCall, { concurrency: CONCURRENCY, rounds: 3, roundMs: 800 });
  report({
    name: '(diagnostic) undici + identity signer -> agent server',
    unit: 'calls/s',
    value: split.subject.opsPerSec,
    baselineName: 'bare fastify+undici, inline Ed25519',
    baseline: split.baseline.opsPerSec,
    ratio: split.ratio,
  });
  await pool.close();
  agentServer.stop();
  signedServer.stop();
  bare.stop();
  return ok;
}

/** handleRequest vs the raw compiled validators around the same handler, one call at a time. */
async function validated<P, R>(service: ServiceDefinition<P, R>, params: P, label: string, withTarget: boolean): Promise<{ ok: boolean; extraNs: number }> {
  const router = new ServiceRouter().register(service);
  const ajv = new Ajv({ allErrors: true });
  const validateInput = ajv.compile(service.inputSchema as object);
  const validateOutput = ajv.compile(service.outputSchema as object);
  const handler = service.handler;
  const context = { service: service.name, requestId: 'bench', caller: undefined, signal: new AbortController().signal, logger: createLogger({ silent: true }) };
  const request = { service: service.name, params };
  const raw = async () => {
    if (!validateInput(request.params)) throw new Error('invalid input');
    const result = await handler(request.params, context);
    if (!validateOutput(result)) throw new Error('invalid output');
    return { success: true, service: service.name, result };
  };
  const { subject, baseline, ratio } = await compareThroughput(() => router.handleRequest(request), raw, { rounds: 5, roundMs: 500 });
  const ok = report({
    name: `handleRequest ${label} (validated in and out)`,
    unit: 'req/s',
    value: subject.opsPerSec,
    baselineName: 'raw compiled ajv + handler',
    baseline: baseline.opsPerSec,
    ratio,
    ...(withTarget ? { target: { better: 'higher' as const, ratio: 0.9 } } : {}),
  });
  return { ok: ok || !withTarget, extraNs: 1e9 / subject.opsPerSec - 1e9 / baseline.opsPerSec };
}

async function inProcess(): Promise<boolean> {
  console.log('@sov/services: in-process, one call at a time');
  const readings = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7) % 13) + i / 1000);
  // The guide's service on a data set: validation and work of the size the service is for.
  const a = await validated(processDataService, { data: readings(1000), algorithm: 'mean' }, "guide's process_data, 1,000 readings", true);
  // Tiny payloads show the router's fixed cost per call rather than validation: reported, without the target.
  const b = await validated(processDataService, { data: readings(64), algorithm: 'mean' }, "guide's process_data, 64 readings", false);
  const c = await validated(echoService, params, 'tiny echo', false);
  const clockNs = timeOf(() => performance.now()) * 2 + timeOf(() => Date.now());
  reportPlain('  router cost per call over raw ajv, tiny echo', c.extraNs, 'ns');
  reportPlain('    of which the 3 clock readings every call needs (execution_time and latency histogram: 2, deadline: 1)', clockNs, 'ns');
  const router = new ServiceRouter().register(echoService);
  // The same echo with zod validators (Standard Schema) in place of its JSON Schemas: what a zod user pays over Ajv.
  const zodRouter = new ServiceRouter().register({
    name: 'echo',
    inputSchema: z.strictObject({ text: z.string().max(1000), tags: z.array(z.string()).max(10).optional() }),
    outputSchema: z.object({ text: z.string() }),
    handler: async ({ text }) => ({ text }),
  });
  const request = { service: 'echo', params };
  const standard = await compareThroughput(() => zodRouter.handleRequest(request), () => router.handleRequest(request), { rounds: 5, roundMs: 500 });
  report({
    name: 'handleRequest tiny echo, zod validators (Standard Schema)',
    unit: 'req/s',
    value: standard.subject.opsPerSec,
    baselineName: 'the same echo with JSON Schemas (Ajv)',
    baseline: standard.baseline.opsPerSec,
    ratio: standard.ratio,
  });
  const valid = { service: 'echo', params };
  const invalid = { service: 'echo', params: { text: 42, tags: 'x', extra: true } };
  const refusals = await compareThroughput(() => router.handleRequest(invalid), () => router.handleRequest(valid), { rounds: 5, roundMs: 500 });
  const d = report({
    name: 'invalid-input requests (3 bad fields)',
    unit: 'req/s',
    value: refusals.subject.opsPerSec,
    baselineName: 'valid requests',
    baseline: refusals.baseline.opsPerSec,
    ratio: refusals.ratio,
    target: { better: 'higher', ratio: 0.5 },
  });
  return a.ok && b.ok && c.ok && d;
}

/** Nanoseconds one call of `fn` takes, from a tight loop. */
function timeOf(fn: () => unknown): number {
  const n = 2_000_000;
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += Number(fn());
  const ns = ((performance.now() - t0) * 1e6) / n;
  return sink === -1 ? 0 : ns;
}

/** The guide's process_data payload: 100 readings and an algorithm. */
const readings100 = { data: Array.from({ length: 100 }, (_, i) => ((i * 7) % 13) + i / 1000), algorithm: 'mean' as const };

/** Measures `subject` beside `baseline` and prints the line. */
async function versus(name: string, subject: () => unknown, baselineName: string, baseline: () => unknown, http: boolean): Promise<void> {
  const options = http ? { concurrency: CONCURRENCY, rounds: 4, roundMs: 800 } : { rounds: 5, roundMs: 500 };
  const r = await compareThroughput(subject, baseline, options);
  report({ name, unit: http ? 'calls/s' : 'req/s', value: r.subject.opsPerSec, baselineName, baseline: r.baseline.opsPerSec, ratio: r.ratio });
}

async function cached(): Promise<void> {
  const server = await serve('agent');
  const target = `http://127.0.0.1:${server.port}`;
  const logger = createLogger({ silent: true });
  const withCache = new Agent({ name: 'bench-cached', identity: Identity.generate(), logger });
  const cache = withCache.use(callCache());
  await withCache.initialize();
  const plain = new Agent({ name: 'bench-plain', identity: Identity.generate(), logger });
  await plain.initialize();
  const uncached = () => plain.call(target, 'process_data', readings100);
  console.log(`@sov/services: cached calls, process_data with 100 readings, two processes on loopback (${CONCURRENCY} concurrent)`);
  await versus('agent.call + callCache, fresh answer (no round trip)', () => withCache.call(target, 'process_data_cached', readings100), 'agent.call, uncached service', uncached, true);
  const { hits, misses } = cache.stats();
  reportPlain('  calls answered from the call cache', (100 * hits) / (hits + misses), '%');
  await versus("agent.call, answered from the callee's cache", () => plain.call(target, 'process_data_cached', readings100), 'agent.call, uncached service', uncached, true);
  server.stop();
}

async function routerCache(): Promise<void> {
  // In process the key (every reading) costs about what validating and summing the readings does: a cache pays for handlers that cost more than reading their params.
  const params = { data: readings100.data.concat(readings100.data).concat(readings100.data), algorithm: 'mean' as const };
  const router = new ServiceRouter().register(processDataService).register({ ...processDataService, name: 'process_data_cached', cache: { ttlMs: 60_000 } });
  await versus(
    'handleRequest from the router cache, process_data 300 readings',
    () => router.handleRequest({ service: 'process_data_cached', params }),
    'handleRequest running the handler',
    () => router.handleRequest({ service: 'process_data', params }),
    false,
  );
}

/** The sections, in the order they run; name some on the command line to run only those (`pnpm bench in-process router-cache`). */
const SECTIONS: Record<string, () => Promise<unknown>> = { http: overHttp, 'in-process': inProcess, cached, 'router-cache': routerCache };

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) throw new Error(`Unknown bench section ${unknown.join(', ')}; the sections are ${Object.keys(SECTIONS).join(', ')}`);
  // Targets are reported (met / MISSED), not enforced: a benchmark informs, a test asserts.
  for (const [name, run] of Object.entries(SECTIONS)) if (asked.length === 0 || asked.includes(name)) await run();
}

void main();
