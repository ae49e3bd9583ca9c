/**
 * CLI benchmark, beside a baseline measured in the same run: a whole
 * `sov search --json` run (node starting the built bin, commander, the
 * registry client, one search, JSON out, exit) vs `node -e` doing the same
 * search with a bare fetch and printing the body. The ratio is what the CLI
 * costs a script that calls it in a loop, over the cheapest node process
 * that could answer the same question.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createLogger } from '@sov/core';
import { RegistryServer } from '@sov/registry';
import { compareThroughput, report } from '@sov/tooling/bench';

const bin = join(import.meta.dirname, '..', 'dist', 'bin.js');

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { env: { PATH: process.env.PATH ?? '' } }, (error) => (error ? reject(error) : resolve())),
  );
}

const registry = await RegistryServer.start({ insecure: true, rateLimit: false, logger: createLogger({ silent: true }) });
for (let i = 0; i < 20; i++) {
  await fetch(`${registry.url}/v1/agents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: `agent-${i}`, name: `agent-${i}`, endpoint: 'http://127.0.0.1:9/', capabilities: ['bench'], services: [{ name: 's', price: i }] }),
  });
}
const url = `${registry.url}/v1/agents?capability=bench&limit=50`;
const r = await compareThroughput(
  () => run([bin, 'search', '--capability', 'bench', '--json', '--registry', registry.url]),
  () => run(['-e', `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`]),
  { rounds: 5, roundMs: 2000, warmupMs: 500 },
);
report({ name: 'sov search --json, whole process', unit: 'runs/s', value: r.subject.opsPerSec, baselineName: 'node -e fetch', baseline: r.baseline.opsPerSec, ratio: r.ratio });
report({ name: 'sov search --json p50', unit: 'ms', value: r.subject.p50Ms, baselineName: 'node -e fetch p50', baseline: r.baseline.p50Ms });
await registry.close();
