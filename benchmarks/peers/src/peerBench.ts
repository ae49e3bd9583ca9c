/**
 * The peer benchmark (issue #15): our agent-to-agent call against a Moleculer
 * 0.14 remote call over NATS, servers in their own processes, the same
 * validated `process` payload (100 numbers and an algorithm) on both sides.
 * Each figure is the median of paired, alternating rounds (compareThroughput),
 * printed beside Moleculer's with the median of the per-round ratios
 * (throughput, p50 and p99 alike) and the issue's target:
 * - at 64 in flight: session-authenticated (the default for an agent with an
 *   identity) >= 1.0x throughput and p99 <= 1.0x; unsigned >= 1.3x;
 *   per-request Ed25519 for the record;
 * - at 1 in flight: session-authenticated p50 <= Moleculer's;
 * - the invalid-input path (both sides refuse the payload);
 * - CPU and read/write system calls per call of each side: the bench
 *   process (client) and the server processes (and the NATS server for
 *   Moleculer), from /proc.
 * PEER_BENCH_CONNECTIONS / PEER_BENCH_PIPELINING set our clients' pool.
 *
 * `--profile <session|per-request|unsigned|moleculer> [seconds]` instead
 * profiles that side at 64 in flight (client and server, node:inspector) and
 * prints the functions with the most self time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceBroker, Errors } from 'moleculer';
import { Agent, createLogger, isSovError } from '@sov/core';
import { Identity } from '@sov/crypto';
import { compareThroughput, measure, report, reportPlain, type Measurement, type Target, type Work } from '@sov/tooling/bench';
import { CpuMeter, type CpuPerCall } from './cpuMeter';
import { NATS_URL, ensureNats, natsServerPid } from './nats';
import { expectedValue, invalidParams, validParams, type ProcessResult } from './processService';
import { printTopSelfTime } from './profileSummary';
import { startProfile } from './serverProfiling';

const ROUNDS = 7;
const ROUND_MS = 700;

interface Server {
  ready: { url?: string; id?: string; nodeID?: string; pid: number };
  child: ChildProcess;
  stop: () => void;
}

/** Starts src/peerServers.ts in its own process; resolves once it printed its ready line. */
function serve(...args: string[]): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'peerServers.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`peer-bench server ${args.join(' ')} printed no ready line within 30 s`));
    }, 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer-bench server ${args.join(' ')} exited with ${code}`));
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /^ready (.*)$/m.exec(out);
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.removeAllListeners('exit');
      resolve({ ready: JSON.parse(line[1]!) as Server['ready'], child, stop: () => child.kill('SIGTERM') });
    });
  });
}

function checkResult(r: ProcessResult, who: string): void {
  if (r.value !== expectedValue || r.count !== validParams.data.length) throw new Error(`${who} answered ${JSON.stringify(r)}`);
}

/** A call of ours: the client agent calls the server agent by URL. */
function ourCall(client: Agent, url: string): Work {
  return async () => checkResult(await client.call<ProcessResult>(url, 'process', validParams), 'our agent');
}

function moleculerCall(broker: ServiceBroker): Work {
  return async () => checkResult(await broker.call<ProcessResult, typeof validParams>('bench.process', validParams), 'moleculer');
}

/** A call both sides must refuse; anything but that refusal fails the bench. */
function ourInvalidCall(client: Agent, url: string): Work {
  return async () => {
    try {
      await client.call(url, 'process', invalidParams);
    } catch (e) {
      if (isSovError(e) && e.code === 'INVALID_INPUT') return;
      throw e;
    }
    throw new Error('our agent accepted the invalid payload');
  };
}

function moleculerInvalidCall(broker: ServiceBroker): Work {
  return async () => {
    try {
      await broker.call('bench.process', invalidParams);
    } catch (e) {
      if (e instanceof Errors.ValidationError) return;
      throw e;
    }
    throw new Error('moleculer accepted the invalid payload');
  };
}

interface Setup {
  servers: { agent: Server; anonymous: Server; moleculer: Server };
  clients: { session: Agent; perRequest: Agent; unsigned: Agent; moleculer: ServiceBroker };
  natsPid: number | undefined;
  close: () => Promise<void>;
}

/**
 * The client agents' connection pool: the agent's default, or what
 * PEER_BENCH_CONNECTIONS (keep-alive connections per peer) and
 * PEER_BENCH_PIPELINING (requests in flight per connection) say, to compare
 * pool shapes with the same bench.
 */
function peerConnections(): { peerConnections?: { connectionsPerPeer?: number; pipelining?: number } } {
  const read = (name: string) => {
    const v = process.env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1 (got ${JSON.stringify(v)})`);
    return n;
  };
  const connectionsPerPeer = read('PEER_BENCH_CONNECTIONS');
  const pipelining = read('PEER_BENCH_PIPELINING');
  if (connectionsPerPeer === undefined && pipelining === undefined) return {};
  return {
    peerConnections: {
      ...(connectionsPerPeer !== undefined ? { connectionsPerPeer } : {}),
      ...(pipelining !== undefined ? { pipelining } : {}),
    },
  };
}

async function setUp(): Promise<Setup> {
  await ensureNats();
  const namespace = `peer-bench-${process.pid}`;
  const [agent, anonymous, moleculer] = await Promise.all([serve('agent'), serve('agent-anonymous'), serve('moleculer', namespace)]);
  const silent = createLogger({ silent: true });
  const pool = peerConnections();
  // The default for an agent with an identity: an Ed25519-signed session handshake per receiver, then HMAC-signed requests.
  const session = new Agent({ name: 'peer-bench-session', identity: Identity.generate(), logger: silent, ...pool });
  const perRequest = new Agent({ name: 'peer-bench-per-request', identity: Identity.generate(), logger: silent, callAuthentication: 'per-request', ...pool });
  const unsigned = new Agent({ name: 'peer-bench-unsigned', logger: silent, ...pool });
  // A request timeout so that a NATS server gone mid-run fails the bench instead of leaving calls waiting for ever.
  const broker = new ServiceBroker({ nodeID: 'peer-bench-client', namespace, transporter: NATS_URL, logger: false, requestTimeout: 10_000 });
  await Promise.all([session.initialize(), perRequest.initialize(), unsigned.initialize(), broker.start()]);
  await broker.waitForServices('bench', 15_000);
  const close = async () => {
    await Promise.all([session.shutdown(), perRequest.shutdown(), unsigned.shutdown(), broker.stop()]);
    for (const s of [agent, anonymous, moleculer]) s.stop();
  };
  return { servers: { agent, anonymous, moleculer }, clients: { session, perRequest, unsigned, moleculer: broker }, natsPid: natsServerPid(), close };
}

const us = (n: number) => `${n.toFixed(0)} µs`;

function describe(c: CpuPerCall | undefined, kind: 'micros' | 'syscalls', processes: string[]): string {
  if (!c) return 'n/a';
  const show = kind === 'micros' ? us : (n: number) => n.toFixed(1);
  const parts = processes.filter((p) => c[kind][p] !== undefined).map((p) => `${p} ${show(c[kind][p]!)}`);
  return `${show(c[kind].total!)} (${parts.join(' + ')})`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * ROUNDS paired rounds of compareThroughput (one round each, ours first in
 * even rounds and Moleculer first in odd ones, after one warm-up of each):
 * each side's median throughput, p50 and p99 over the rounds, and for each of
 * the three the median of the per-round ratios ours / Moleculer, the form the
 * issue's targets take (compareThroughput pairs throughput only; its
 * latencies are pooled over the rounds).
 */
async function pairedRounds(ours: Work, moleculer: Work, concurrency: number): Promise<{ ours: Measurement; moleculer: Measurement; ratio: Measurement }> {
  await measure(ours, { concurrency, warmupMs: 0, rounds: 1, roundMs: 300 });
  await measure(moleculer, { concurrency, warmupMs: 0, rounds: 1, roundMs: 300 });
  const per = { ours: [] as Measurement[], moleculer: [] as Measurement[] };
  for (let i = 0; i < ROUNDS; i++) {
    const options = { concurrency, rounds: 1, roundMs: ROUND_MS, warmupMs: 0 };
    if (i % 2 === 0) {
      const r = await compareThroughput(ours, moleculer, options);
      per.ours.push(r.subject);
      per.moleculer.push(r.baseline);
    } else {
      const r = await compareThroughput(moleculer, ours, options);
      per.ours.push(r.baseline);
      per.moleculer.push(r.subject);
    }
  }
  const of = (side: Measurement[], key: keyof Measurement) => median(side.map((m) => m[key]));
  const ratioOf = (key: keyof Measurement) => median(per.ours.map((m, i) => m[key] / per.moleculer[i]![key]));
  return {
    ours: { opsPerSec: of(per.ours, 'opsPerSec'), p50Ms: of(per.ours, 'p50Ms'), p99Ms: of(per.ours, 'p99Ms') },
    moleculer: { opsPerSec: of(per.moleculer, 'opsPerSec'), p50Ms: of(per.moleculer, 'p50Ms'), p99Ms: of(per.moleculer, 'p99Ms') },
    ratio: { opsPerSec: ratioOf('opsPerSec'), p50Ms: ratioOf('p50Ms'), p99Ms: ratioOf('p99Ms') },
  };
}

interface Comparison {
  name: string;
  ours: Work;
  /** Which server our side calls, for the CPU breakdown. */
  ourServer: 'agent' | 'anonymous';
  moleculer: Work;
  concurrency: number;
  throughputTarget?: Target;
  p50Target?: Target;
  p99Target?: Target;
}

/** One paired comparison, printed; returns the targets it missed. */
async function compare(setup: Setup, c: Comparison): Promise<string[]> {
  const pids: Record<string, number> = {
    agent: setup.servers.agent.ready.pid,
    anonymous: setup.servers.anonymous.ready.pid,
    moleculer: setup.servers.moleculer.ready.pid,
  };
  if (setup.natsPid !== undefined) pids.nats = setup.natsPid;
  const meter = new CpuMeter<'ours' | 'moleculer'>(pids);
  const r = await pairedRounds(meter.wrap('ours', c.ours), meter.wrap('moleculer', c.moleculer), c.concurrency);
  const cpu = meter.finish();
  const missed: string[] = [];
  const check = (ok: boolean, what: string) => ok || missed.push(what);
  console.log(`\n${c.name}, ${c.concurrency} in flight`);
  check(
    report({ name: '  throughput', unit: 'calls/s', value: r.ours.opsPerSec, baselineName: 'moleculer', baseline: r.moleculer.opsPerSec, ratio: r.ratio.opsPerSec, ...(c.throughputTarget ? { target: c.throughputTarget } : {}) }),
    `${c.name} @${c.concurrency} throughput`,
  );
  check(
    report({ name: '  p50', unit: 'ms', value: r.ours.p50Ms, baselineName: 'moleculer', baseline: r.moleculer.p50Ms, ratio: r.ratio.p50Ms, ...(c.p50Target ? { target: c.p50Target } : {}) }),
    `${c.name} @${c.concurrency} p50`,
  );
  check(
    report({ name: '  p99', unit: 'ms', value: r.ours.p99Ms, baselineName: 'moleculer', baseline: r.moleculer.p99Ms, ratio: r.ratio.p99Ms, ...(c.p99Target ? { target: c.p99Target } : {}) }),
    `${c.name} @${c.concurrency} p99`,
  );
  const ours = cpu.get('ours');
  const mol = cpu.get('moleculer');
  for (const [label, kind] of [['CPU per call', 'micros'], ['read/write syscalls per call', 'syscalls']] as const) {
    const ratio = ours && mol ? `  |  ratio ${(ours[kind].total! / mol[kind].total!).toFixed(3)}x` : '';
    console.log(`  ${label}: ours ${describe(ours, kind, ['client', c.ourServer])}  |  moleculer ${describe(mol, kind, ['client', 'moleculer', 'nats'])}${ratio}`);
  }
  return missed;
}

async function bench(): Promise<void> {
  const setup = await setUp();
  const { session, perRequest, unsigned, moleculer } = setup.clients;
  const agentUrl = setup.servers.agent.ready.url!;
  const anonymousUrl = setup.servers.anonymous.ready.url!;
  console.log(`peer benchmark: our agent call vs Moleculer 0.14 over NATS (${NATS_URL}); payload: 100 numbers + algorithm, schema-validated on both sides`);
  console.log(`${ROUNDS} paired rounds of ${ROUND_MS} ms per figure (compareThroughput, alternating which side goes first); each figure is the median over the rounds, each ratio the median of the per-round ratios`);
  const pool = peerConnections().peerConnections;
  console.log(`our client agents' pool: ${pool ? JSON.stringify(pool) : "the agent's default"} (PEER_BENCH_CONNECTIONS, PEER_BENCH_PIPELINING)`);
  if (setup.natsPid === undefined) console.log('(no local nats-server process found in /proc: Moleculer CPU per call leaves out the NATS server)');
  const mol = moleculerCall(moleculer);
  const comparisons: Comparison[] = [
    {
      name: 'session-authenticated (default, identity)',
      ours: ourCall(session, agentUrl),
      ourServer: 'agent',
      moleculer: mol,
      concurrency: 64,
      throughputTarget: { better: 'higher', ratio: 1.0 },
      p99Target: { better: 'lower', ratio: 1.0 },
    },
    { name: 'per-request Ed25519', ours: ourCall(perRequest, agentUrl), ourServer: 'agent', moleculer: mol, concurrency: 64 },
    { name: 'unsigned (allowAnonymous)', ours: ourCall(unsigned, anonymousUrl), ourServer: 'anonymous', moleculer: mol, concurrency: 64, throughputTarget: { better: 'higher', ratio: 1.3 } },
    { name: 'session-authenticated (default, identity)', ours: ourCall(session, agentUrl), ourServer: 'agent', moleculer: mol, concurrency: 1, p50Target: { better: 'lower', ratio: 1.0 } },
    { name: 'per-request Ed25519', ours: ourCall(perRequest, agentUrl), ourServer: 'agent', moleculer: mol, concurrency: 1 },
    { name: 'unsigned (allowAnonymous)', ours: ourCall(unsigned, anonymousUrl), ourServer: 'anonymous', moleculer: mol, concurrency: 1 },
    {
      name: 'invalid input refused (session-authenticated)',
      ours: ourInvalidCall(session, agentUrl),
      ourServer: 'agent',
      moleculer: moleculerInvalidCall(moleculer),
      concurrency: 64,
    },
  ];
  const missed: string[] = [];
  const t0 = performance.now();
  try {
    // Every client and server path hot before the first figure, so the first comparison is not the one that pays for JIT.
    const distinct = new Map(comparisons.flatMap((c) => [[`${c.name}/ours`, c.ours], [`${c.name}/moleculer`, c.moleculer]] as const));
    for (const w of distinct.values()) await measure(w, { concurrency: 64, warmupMs: 0, rounds: 1, roundMs: 400 });
    for (const c of comparisons) missed.push(...(await compare(setup, c)));
  } finally {
    await setup.close();
  }
  console.log(`\npeer benchmark: ${missed.length === 0 ? 'every target met' : `targets missed: ${missed.join('; ')}`} (${((performance.now() - t0) / 1000).toFixed(0)} s of measuring)`);
}

/** Asks a server child to profile itself; resolves to a function that stops and writes the profile. */
function profileChild(server: Server): Promise<(file: string) => Promise<void>> {
  const ask = (m: object, answer: (r: { profiled?: string }) => boolean) =>
    new Promise<void>((resolve) => {
      const on = (r: { profiled?: string }) => {
        if (!answer(r)) return;
        server.child.off('message', on);
        resolve();
      };
      server.child.on('message', on);
      server.child.send(m);
    });
  return ask({ profile: 'start' }, (r) => r.profiled === 'started').then(() => (file: string) => ask({ profile: 'stop', file }, (r) => r.profiled === file));
}

async function profile(side: string, seconds: number): Promise<void> {
  const setup = await setUp();
  const { session, perRequest, unsigned, moleculer } = setup.clients;
  const agentUrl = setup.servers.agent.ready.url!;
  const sides: Record<string, { work: Work; server: Server }> = {
    session: { work: ourCall(session, agentUrl), server: setup.servers.agent },
    'per-request': { work: ourCall(perRequest, agentUrl), server: setup.servers.agent },
    unsigned: { work: ourCall(unsigned, setup.servers.anonymous.ready.url!), server: setup.servers.anonymous },
    moleculer: { work: moleculerCall(moleculer), server: setup.servers.moleculer },
  };
  const chosen = sides[side];
  if (!chosen) throw new Error(`--profile takes one of ${Object.keys(sides).join(', ')} (got ${side})`);
  const dir = join(process.cwd(), 'profiles');
  mkdirSync(dir, { recursive: true });
  try {
    await measure(chosen.work, { concurrency: 64, warmupMs: 1000, rounds: 1, roundMs: 500 });
    const stopServer = await profileChild(chosen.server);
    const stopClient = await startProfile();
    const t0 = performance.now();
    const m = await measure(chosen.work, { concurrency: 64, warmupMs: 0, rounds: 1, roundMs: seconds * 1000 });
    const calls = Math.round((m.opsPerSec * (performance.now() - t0)) / 1000);
    const clientFile = join(dir, `${side}-client.cpuprofile`);
    const serverFile = join(dir, `${side}-server.cpuprofile`);
    await stopClient(clientFile);
    await stopServer(serverFile);
    reportPlain(`${side} at 64 in flight, while profiling (sampling slows it)`, m.opsPerSec, 'calls/s');
    printTopSelfTime(`${side}: client side (the bench process)`, clientFile, 25, calls);
    printTopSelfTime(`${side}: server side`, serverFile, 25, calls);
  } finally {
    await setup.close();
  }
}

const args = process.argv.slice(2);
const run = args[0] === '--profile' ? profile(args[1] ?? 'session', Number(args[2] ?? 8)) : bench();
run.then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`peer benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
