/**
 * Federation benchmark, registries on loopback (A peers with B, C and D;
 * B with E):
 * - mirrored federated search over 4 registries (searchAll in mode
 *   'mirror': one request to A, which answers from its own listings and its
 *   mirrors of B, C and D, ranked there: the best page of 10 of the 40
 *   listings; merge, dedupe, score; the answer cache off) vs
 *   one registry's search (the same searchAll over A alone, so the same
 *   client and code). Target: p50 <= 1.5x. Beside it the old fan-out
 *   (mode 'fanout': 4 parallel searches) and its floor (4 bare parallel
 *   undici GETs vs 1), and core's HttpRegistryClient.search of one registry.
 * - mirror lag: from a registration on D answered to the listing visible in
 *   A's federated search, p50.
 * - a 2-hop cross-registry transaction (origin -> A -> B -> E -> agent and
 *   back, every hop verified and countersigned, the route receipt checked)
 *   vs a direct signed call of the same agent (agent.call by URL, Ed25519
 *   per request) and vs the agent's default session-authenticated call.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, HttpRegistryClient, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { federation } from '@sov/federation';
import { serviceRouter } from '@sov/services';
import { freePort } from '@sov/testing';
import { compareThroughput, report } from '@sov/tooling/bench';
import { Pool } from 'undici';

const quiet = createLogger({ silent: true });
const AGENTS_PER_REGISTRY = 10;
/** The page every search asks for: one registry's listings, so a federated answer (the best 10 of 40) is the size of one registry's. */
const PAGE = 10;

/** Starts registries in a child process; resolves when all listen. */
function startRegistries(configs: object[]): Promise<{ stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'registryProcess.ts'), JSON.stringify(configs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`registry process exited with ${code}`)));
    child.stdout.once('data', () => resolve({ stop: () => child.kill('SIGTERM') }));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sov-federation-bench-'));
  const names = ['A', 'B', 'C', 'D', 'E'];
  const ids = names.map(() => Identity.generate());
  const ports = await Promise.all(names.map(() => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  // A star A - B, A - C, A - D (four registries to search, all mirrored by A) and B - E: a 2-hop path A -> E.
  const edges: Array<[number, number]> = [[0, 1], [0, 2], [0, 3], [1, 4]];
  const peersOf = (i: number) =>
    edges.flatMap(([a, b]) => (a === i ? [b] : b === i ? [a] : [])).map((j) => ({ url: urls[j]!, id: ids[j]!.id }));
  const searched = urls.slice(0, 4);
  await Promise.all(ids.map((id, i) => id.save(join(dir, `${names[i]}.json`))));
  const configs = names.map((n, i) => ({ port: ports[i], keyFile: join(dir, `${n}.json`), peers: peersOf(i) }));
  // A process per registry where the machine has a core for each (and one for this client); else all four
  // share one process, so that the fan-out is not measured as the scheduler's wake-up latency of five processes.
  // SOV_BENCH_REGISTRIES=each|shared overrides the choice.
  const mode = process.env.SOV_BENCH_REGISTRIES ?? (availableParallelism() >= searched.length + 1 ? 'each' : 'shared');
  const perProcess = mode === 'each';
  const registries = await Promise.all(perProcess ? configs.map((c) => startRegistries([c])) : [startRegistries(configs)]);
  const agents: Agent[] = [];
  try {
    await waitFor('peering', async () => {
      for (const url of urls) {
        const body = (await (await fetch(`${url}/v1/federation/peers`)).json()) as { peers: Array<{ status: string }> };
        if (body.peers.some((p) => p.status !== 'active')) return false;
      }
      return true;
    });
    // Listings to search: the same number in each registry.
    await Promise.all(
      searched.flatMap((url, r) =>
        Array.from({ length: AGENTS_PER_REGISTRY }, async (_, i) => {
          const who = Identity.generate();
          await new HttpRegistryClient({ baseUrl: url, signer: who.signer }).register({
            id: who.id,
            name: `quote-${names[r]}-${i}`,
            endpoint: `http://127.0.0.1:9/${r}/${i}`,
            capabilities: ['quote'],
            services: [{ name: 'quote', price: 1 + ((i * 7) % 50) }],
            ttl: 3600,
          });
        }),
      ),
    );
    // A's mirrors of B, C and D hold every listing before the search is measured.
    await waitFor('the mirrors', async () => {
      const page = (await (await fetch(`${urls[0]}/v1/federation/search?capability=quote`)).json()) as { total: number };
      return page.total === 4 * AGENTS_PER_REGISTRY;
    });
    // The transaction's target, registered at E; the origin at A.
    const target = new Agent({ name: 'echo', registryUrl: urls[4]!, identity: Identity.generate(), logger: quiet });
    target.use(serviceRouter()).register({ name: 'echo', handler: (p: unknown) => Promise.resolve(p) });
    await target.start();
    agents.push(target);
    const origin = new Agent({ name: 'origin', registryUrl: urls[0]!, identity: Identity.generate(), logger: quiet, callAuthentication: 'per-request' });
    const fed = origin.use(federation({ registries: searched.slice(1), mode: 'mirror', cacheTtlMs: 1, searchTimeoutMs: 2000 }));
    await origin.start();
    agents.push(origin);
    const fanner = new Agent({ name: 'fanner', registryUrl: urls[0]!, identity: Identity.generate(), logger: quiet });
    const fedFan = fanner.use(federation({ registries: searched.slice(1), mode: 'fanout', cacheTtlMs: 1, searchTimeoutMs: 2000 }));
    await fanner.start();
    agents.push(fanner);
    const lone = new Agent({ name: 'lone', registryUrl: urls[0]!, identity: Identity.generate(), logger: quiet });
    const fedOne = lone.use(federation({ mode: 'fanout', cacheTtlMs: 1, searchTimeoutMs: 2000 }));
    await lone.start();
    agents.push(lone);
    const sessionCaller = new Agent({ name: 'session-caller', identity: Identity.generate(), logger: quiet });
    await sessionCaller.start();
    agents.push(sessionCaller);

    const one = new HttpRegistryClient({ baseUrl: urls[0]!, timeoutMs: 2000 });
    const search = async () => {
      fed.clearCache();
      const page = await fed.searchAll('quote', { maxPrice: 100, limit: PAGE });
      if (page.results.length !== PAGE) throw new Error(`federated search found ${page.results.length}`);
      if (page.registries.some((r) => r.via !== 'mirror')) throw new Error('the mirrored search asked a registry directly');
    };
    const fanSearch = async () => {
      fedFan.clearCache();
      const page = await fedFan.searchAll('quote', { maxPrice: 100, limit: PAGE });
      if (page.results.length !== PAGE) throw new Error(`fan-out search found ${page.results.length}`);
    };
    const single = async () => {
      fedOne.clearCache();
      const page = await fedOne.searchAll('quote', { maxPrice: 100, limit: PAGE });
      if (page.results.length !== PAGE) throw new Error(`search found ${page.results.length}`);
    };
    const kySingle = async () => {
      const page = await one.search({ capabilities: ['quote'], maxPrice: 100, limit: PAGE });
      if (page.agents.length !== PAGE) throw new Error(`search found ${page.agents.length}`);
    };
    console.log(
      `@sov/federation: 4 registries searched on loopback (${perProcess ? 'a process each' : `one process for the four: ${availableParallelism()} cores`}), ${AGENTS_PER_REGISTRY} listings each, one call at a time`,
    );
    const s = await compareThroughput(search, single, { rounds: 6, roundMs: 1500 });
    const searchOk = report({
      name: 'mirrored federated search over 4 registries (one request to A), p50',
      unit: 'ms',
      value: s.subject.p50Ms,
      baselineName: "one registry's search (the same searchAll, primary only), p50",
      baseline: s.baseline.p50Ms,
      target: { better: 'lower', ratio: 1.5 },
    });
    console.log(`  (p99 ${s.subject.p99Ms.toFixed(2)} ms vs ${s.baseline.p99Ms.toFixed(2)} ms; throughput ratio ${s.ratio.toFixed(3)}x, paired rounds)`);
    // The mirrored search's floor: the one GET and the JSON.parse of its answer (one page, the best of 4x the records) vs those of one registry's.
    const floorPool = new Pool(urls[0]!, { connections: 4 });
    const getParsed = (path: string) => floorPool.request({ method: 'GET', path }).then(async (r) => JSON.parse(await r.body.text()) as unknown);
    const m = await compareThroughput(
      () => getParsed(`/v1/federation/search?capability=quote&maxPrice=100&limit=${PAGE}&service=quote&scoreMaxPrice=100`),
      () => getParsed(`/v1/agents?capability=quote&maxPrice=100&limit=${PAGE}`),
      { rounds: 4, roundMs: 1000 },
    );
    report({
      name: "  floor: 1 bare GET + JSON.parse of A's federated answer (the best 10 of 40 records), p50",
      unit: 'ms',
      value: m.subject.p50Ms,
      baselineName: "of one registry's answer (10 records), p50",
      baseline: m.baseline.p50Ms,
    });
    await floorPool.close();
    const f = await compareThroughput(fanSearch, single, { rounds: 4, roundMs: 1000 });
    report({
      name: '  the old fan-out over 4 registries (4 parallel searches), p50',
      unit: 'ms',
      value: f.subject.p50Ms,
      baselineName: "one registry's search, p50",
      baseline: f.baseline.p50Ms,
    });
    // The fan-out's floor on this machine: the same four GETs with bare undici and nothing else (no parse, merge or score).
    const pools = searched.map((u) => new Pool(u, { connections: 4 }));
    const bare = (pool: Pool) => pool.request({ method: 'GET', path: `/v1/agents?capability=quote&maxPrice=100&limit=${PAGE}` }).then((r) => r.body.text());
    const b = await compareThroughput(() => Promise.all(pools.map(bare)), () => bare(pools[0]!), { rounds: 4, roundMs: 1000 });
    report({
      name: '  floor: 4 bare undici GETs in parallel, p50',
      unit: 'ms',
      value: b.subject.p50Ms,
      baselineName: '1 bare undici GET, p50',
      baseline: b.baseline.p50Ms,
    });
    await Promise.all(pools.map((p) => p.close()));
    const k = await compareThroughput(search, kySingle, { rounds: 4, roundMs: 1000 });
    report({
      name: 'mirrored federated search over 4 registries, p50',
      unit: 'ms',
      value: k.subject.p50Ms,
      baselineName: "one registry's search with core's HttpRegistryClient, p50",
      baseline: k.baseline.p50Ms,
    });

    // Mirror lag: a registration on D answered, then A's federated search polled until the listing is there.
    const lags: number[] = [];
    const poll = new Pool(urls[0]!, { connections: 1 });
    for (let i = 0; i < 30; i++) {
      const who = Identity.generate();
      const capability = `lag-${i}`;
      await new HttpRegistryClient({ baseUrl: urls[3]!, signer: who.signer }).register({
        id: who.id,
        name: `lag-${i}`,
        endpoint: 'http://127.0.0.1:9/lag',
        capabilities: [capability],
        ttl: 3600,
      });
      const t0 = performance.now();
      for (;;) {
        const res = await poll.request({ method: 'GET', path: `/v1/federation/search?capability=${capability}` });
        const body = (await res.body.json()) as { agents: unknown[] };
        if (body.agents.length > 0) break;
        if (performance.now() - t0 > 5000) throw new Error(`lag-${i} never reached A's mirror`);
      }
      lags.push(performance.now() - t0);
    }
    await poll.close();
    lags.sort((a, b) => a - b);
    console.log(
      `  mirror lag (registered on D, answered -> visible in A's federated search), p50: ${lags[Math.floor(lags.length / 2)]!.toFixed(2)} ms (max ${lags[lags.length - 1]!.toFixed(2)} ms, ${lags.length} samples)`,
    );

    const params = { text: 'hello across registries' };
    const transact = async () => {
      const out = await fed.executeCrossRegistryTransaction<typeof params>(target.id, ids[4]!.id, { service: 'echo', params });
      if (out.receipt.hops.length !== 3 || out.result.text !== params.text) throw new Error('bad transaction');
    };
    const direct = async () => {
      const out = await origin.call<typeof params>(target.url!, 'echo', params);
      if (out.text !== params.text) throw new Error('bad direct call');
    };
    const sessionDirect = async () => {
      const out = await sessionCaller.call<typeof params>(target.url!, 'echo', params);
      if (out.text !== params.text) throw new Error('bad session call');
    };
    const t = await compareThroughput(transact, direct, { rounds: 6, roundMs: 1500 });
    report({
      name: '2-hop cross-registry transaction (A -> B -> E -> agent, receipt checked), p50',
      unit: 'ms',
      value: t.subject.p50Ms,
      baselineName: 'direct signed call (Ed25519 per request), p50',
      baseline: t.baseline.p50Ms,
    });
    const u = await compareThroughput(transact, sessionDirect, { rounds: 4, roundMs: 1000 });
    report({
      name: '2-hop cross-registry transaction, p50',
      unit: 'ms',
      value: u.subject.p50Ms,
      baselineName: 'direct session-authenticated call (the default), p50',
      baseline: u.baseline.p50Ms,
    });
    if (!searchOk) console.log('  the search target was missed in this run');
  } finally {
    await Promise.all(agents.map((a) => a.shutdown()));
    for (const r of registries) r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
