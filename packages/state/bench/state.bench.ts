/**
 * @sov/state benchmark: journal-mode writes per second with 1 and with 64
 * concurrent writers, beside a raw append + fdatasync loop on the same disk,
 * and the time to checkpoint 100k keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compareThroughput, report, reportPlain } from '@sov/tooling/bench';
import { FileStateStore } from '@sov/state';

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sov-state-bench-'));
  try {
    const store = await FileStateStore.open({ dir: join(root, 'journal') });
    const raw = await open(join(root, 'raw.log'), 'a');
    // A record of the size the store writes for these values, so both sides put the same bytes on disk.
    const rawRecord = Buffer.from(`00000000 [0,[["s","k123456",{"n":123456,"at":"bench"}]]]\n`);
    let i = 0;
    const write = () => store.set(`k${i++ % 100_000}`, { n: i, at: 'bench' });
    const rawWrite = async () => {
      await raw.write(rawRecord);
      await raw.datasync();
    };

    const one = await compareThroughput(write, rawWrite, { rounds: 5, roundMs: 800, concurrency: 1 });
    report({
        name: 'journal set, 1 writer',
        unit: 'writes/s',
        value: one.subject.opsPerSec,
        baselineName: 'raw append+fdatasync',
        baseline: one.baseline.opsPerSec,
        ratio: one.ratio,
        target: { better: 'higher', ratio: 0.8 },
      });

    const many = await compareThroughput(write, rawWrite, { rounds: 5, roundMs: 800, concurrency: 64 });
    report({
        name: 'journal set, 64 writers',
        unit: 'writes/s',
        value: many.subject.opsPerSec,
        baselineName: 'journal set, 1 writer',
        baseline: one.subject.opsPerSec,
        target: { better: 'higher', ratio: 10 },
      });
    console.log(
      `  latency p50/p99: 1 writer ${one.subject.p50Ms.toFixed(3)}/${one.subject.p99Ms.toFixed(3)} ms, 64 writers ${many.subject.p50Ms.toFixed(3)}/${many.subject.p99Ms.toFixed(3)} ms`,
    );
    await raw.close();
    await store.close();

    const cp = await FileStateStore.open({ dir: join(root, 'checkpoint'), durability: 'checkpoint' });
    const ops = Array.from({ length: 100_000 }, (_, k) => ({
      type: 'set' as const,
      key: `agent:${k}`,
      value: { id: `agent-${k}`, reputation: k % 100, endpoints: [`http://10.0.${k % 256}.1:8080`], tags: ['a', 'b'] },
    }));
    await cp.batch(ops);
    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      await cp.set('touch', round); // dirty again, so each round writes
      const t0 = performance.now();
      await cp.checkpoint();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    reportPlain('checkpoint of 100k keys (median of 3)', times[1]!, 'ms');
    await cp.close();

    const t0 = performance.now();
    const reopened = await FileStateStore.open({ dir: join(root, 'checkpoint'), durability: 'checkpoint' });
    reportPlain('open (recover) of 100k keys', performance.now() - t0, 'ms');
    await reopened.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main();
