// Emits COUNT events into a full queue (capacity 1024) under one overflow
// policy and prints how much RSS and heap grew. Run by events.bench.ts, one
// fresh process per figure. Growth is read after a full GC (what the process
// keeps); the peak between collections is printed too.
import { EventBus } from '@sov/events';

const [policy, countArg] = process.argv.slice(2);
const count = Number(countArg);
const gc = globalThis.gc ?? (() => undefined);
const bus = new EventBus({ capacity: 1024, concurrency: 16, overflow: policy === 'unbounded' ? 'wait' : policy, maxWaitingEmitters: 1024 });
let release;
const gate = new Promise((r) => (release = r));
// reject and dropOldest: handlers hold the queue full; wait: they make progress, so emitters wait for room.
bus.on('reading', policy === 'wait' ? async () => new Promise((r) => setImmediate(r)) : async () => gate);
await bus.start();
if (policy === 'unbounded') {
  // The baseline: what the same events weigh when a queue keeps them all (an array nobody drains).
  gc();
  const before = process.memoryUsage().rss;
  const kept = [];
  for (let i = 0; i < count; i++) kept.push({ id: `e-${i}`, type: 'reading', data: { n: i, payload: 'x'.repeat(64) }, timestamp: Date.now(), source: 'bench' });
  gc();
  process.stdout.write(JSON.stringify({ rssMiB: (process.memoryUsage().rss - before) / 2 ** 20, peakMiB: (process.memoryUsage().rss - before) / 2 ** 20, heapMiB: kept.length }));
  process.exit(0);
}
// Fill it first: growth is measured from a full queue.
for (let i = 0; i < 1024 + 16; i++) void bus.emit('reading', { n: i, payload: 'x'.repeat(64) }).catch(() => undefined);
await new Promise((r) => setImmediate(r));
gc();
const before = process.memoryUsage();
let peak = before.rss;
for (let i = 0; i < count; i++) {
  const p = bus.emit('reading', { n: i, payload: 'x'.repeat(64) });
  if (policy === 'wait') await p;
  else await p.catch(() => undefined);
  if (i % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
}
gc();
const after = process.memoryUsage();
peak = Math.max(peak, after.rss);
process.stdout.write(JSON.stringify({ rssMiB: (after.rss - before.rss) / 2 ** 20, peakMiB: (peak - before.rss) / 2 ** 20, heapMiB: (after.heapUsed - before.heapUsed) / 2 ** 20 }));
release();
await bus.stop(0);
