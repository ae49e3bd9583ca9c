/**
 * @sov/events benchmark, every figure beside its baseline from the same run:
 * - emit → handler throughput against a bare eventemitter3 emit calling the
 *   same async handler (target >= 0.5x);
 * - durable emit (journaled and fsynced before it resolves) against a raw
 *   append + fdatasync of the same bytes on the same disk (target >= 0.8x),
 *   with 1 and with 64 emitters;
 * - the RSS growth while 1,000,000 events are emitted into a full queue
 *   under each overflow policy, each in a fresh process, against the growth
 *   for 10,000 (bounded by the capacity, not by the count: about 1x).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import EventEmitter from 'eventemitter3';
import { compareThroughput, report, reportPlain } from '@sov/tooling/bench';
import { FileStateStore } from '@sov/state';
import { EventBus } from '@sov/events';

const BATCH = 1000;

/**
 * One op: a batch of events emitted and every handler done, on both sides.
 * The bare side's listener keeps each handler's promise so it can wait for
 * them too (the figure counts handled events).
 */
async function throughputWith(label: string, handler: (e: { data: { n: number } }) => Promise<void>, target: boolean): Promise<void> {
  const bus = new EventBus<{ reading: { n: number } }>({ capacity: 4096, concurrency: 1024 });
  bus.on('reading', handler);
  await bus.start();
  let done: Array<Promise<void>> = [];
  const ee = new EventEmitter();
  ee.on('reading', (e: { data: { n: number } }) => void done.push(handler(e)));
  const ours = async () => {
    for (let i = 0; i < BATCH; i++) void bus.emit('reading', { n: i });
    await bus.idle();
  };
  const bare = async () => {
    for (let i = 0; i < BATCH; i++) ee.emit('reading', { data: { n: i } });
    const batch = done;
    done = [];
    await Promise.all(batch);
  };
  const r = await compareThroughput(ours, bare, { rounds: 7, roundMs: 600 });
  report({
    name: `emit → async handler (${label}), memory queue`,
    unit: 'events/s',
    value: r.subject.opsPerSec * BATCH,
    baselineName: 'bare eventemitter3 emit',
    baseline: r.baseline.opsPerSec * BATCH,
    ratio: r.ratio,
    ...(target ? { target: { better: 'higher' as const, ratio: 0.5 } } : {}),
  });
  await bus.stop();
}

async function throughput(): Promise<void> {
  let sum = 0;
  // A handler that does async work: it yields once to the event loop, as any handler doing I/O does.
  await throughputWith('one event-loop turn of work', async (e) => {
    await new Promise<void>((r) => setImmediate(r));
    sum += e.data.n;
  }, true);
  // An empty handler: the queue's own cost per event (id, envelope, order, timeout, metrics) against a bare function call.
  await throughputWith('empty body: overhead only', async (e) => {
    sum += e.data.n;
  }, false);
  if (sum < 0) console.log(sum);
}

async function durable(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sov-events-bench-'));
  try {
    const store = await FileStateStore.open({ dir: join(root, 'journal') });
    const bus = new EventBus<{ reading: { n: number; at: string } }>({ journal: store, capacity: 4096, concurrency: 64 });
    bus.on('reading', async () => undefined);
    await bus.start();
    const probe = await bus.emit('reading', { n: 123456, at: 'bench' });
    await bus.idle();
    // The raw side writes a record of the size the journal writes for one event, so both put the same bytes on disk.
    const record = Buffer.from(`00000000 [0,[["s","events/0000000000000001",${JSON.stringify(probe)}]]]\n`);
    const raw = await open(join(root, 'raw.log'), 'a');
    let n = 0;
    const emit = () => bus.emit('reading', { n: n++, at: 'bench' });
    const rawAppend = async () => {
      await raw.write(record);
      await raw.datasync();
    };
    for (const concurrency of [1, 64]) {
      const r = await compareThroughput(emit, rawAppend, { rounds: 5, roundMs: 800, concurrency });
      report({
        name: `durable emit, ${concurrency} emitter${concurrency > 1 ? 's' : ''}`,
        unit: 'events/s',
        value: r.subject.opsPerSec,
        baselineName: 'raw append+fdatasync, same bytes',
        baseline: r.baseline.opsPerSec,
        ratio: r.ratio,
        target: { better: 'higher', ratio: 0.8 },
      });
    }
    // What the events layer adds over the journal it writes to: the same event set into a FileStateStore of its own.
    const plainStore = await FileStateStore.open({ dir: join(root, 'plain') });
    const plainEvent = JSON.parse(JSON.stringify(probe)) as Record<string, unknown>;
    let k = 0;
    const journalSet = () => plainStore.set(`events/${String(k++ % 1000).padStart(16, '0')}`, plainEvent);
    const vsStore = await compareThroughput(emit, journalSet, { rounds: 5, roundMs: 800, concurrency: 1 });
    report({
      name: 'durable emit, 1 emitter',
      unit: 'events/s',
      value: vsStore.subject.opsPerSec,
      baselineName: '@sov/state journal set of the same event',
      baseline: vsStore.baseline.opsPerSec,
      ratio: vsStore.ratio,
    });
    await plainStore.close();
    await bus.stop();
    await store.close();
    await raw.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function rss(): void {
  const worker = fileURLToPath(new URL('./rssWorker.mjs', import.meta.url));
  const run = (policy: string, count: number) =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', worker, policy, String(count)], { encoding: 'utf8' })) as {
      rssMiB: number;
      peakMiB: number;
      heapMiB: number;
    };
  const unbounded = run('unbounded', 1_000_000);
  for (const policy of ['reject', 'dropOldest', 'wait']) {
    const big = run(policy, 1_000_000);
    const bigger = run(policy, 3_000_000);
    report({
      name: `RSS growth (peak), 1,000,000 events into a full queue (capacity 1024), ${policy}`,
      unit: 'MiB',
      value: big.peakMiB,
      baselineName: 'the same events kept by an unbounded queue',
      baseline: unbounded.rssMiB,
      ratio: big.peakMiB / unbounded.rssMiB,
      target: { better: 'lower', ratio: 0.5 },
    });
    // Bounded by the capacity, not the count: three times the events, about the same peak.
    reportPlain(`  ${policy}: peak for 3,000,000 events (does not grow with the count)`, bigger.peakMiB, 'MiB');
    reportPlain(`  ${policy}: heap growth after gc, 1,000,000 events`, big.heapMiB, 'MiB');
  }
}

async function main(): Promise<void> {
  await throughput();
  await durable();
  rss();
}

void main();
