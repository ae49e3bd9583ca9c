import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SovError } from '@sov/core';
import { ManualClock } from '@sov/testing';
import { BatchProcessor } from './batchProcessor';

const double = (items: number[]) => items.map((n) => n * 2);

/** Records each batch it is given and answers through a gate the test opens. */
function gatedProcess() {
  const batches: number[][] = [];
  const gates: Array<{ resolve: (r: Array<number | Error>) => void; reject: (e: unknown) => void }> = [];
  const process = (items: number[]) => {
    batches.push(items);
    return new Promise<Array<number | Error>>((resolve, reject) => gates.push({ resolve, reject }));
  };
  return { batches, gates, process };
}

describe('BatchProcessor', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs a batch as soon as it is full, each item getting its own result', async () => {
    const process = jest.fn(double);
    const batcher = new BatchProcessor({ batchSize: 3, batchTimeoutMs: 1000, process });
    const results = Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)]);
    await jest.advanceTimersByTimeAsync(0);
    expect(process).toHaveBeenCalledWith([1, 2, 3]);
    await expect(results).resolves.toEqual([2, 4, 6]);
    expect(batcher.pending).toBe(0);
  });

  it('flushes a partial batch after batchTimeoutMs, counted from its oldest item', async () => {
    const process = jest.fn(double);
    const batcher = new BatchProcessor({ batchSize: 10, batchTimeoutMs: 100, process });
    const a = batcher.add(1);
    await jest.advanceTimersByTimeAsync(60);
    const b = batcher.add(2);
    await jest.advanceTimersByTimeAsync(39);
    expect(process).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(process).toHaveBeenCalledTimes(1);
    expect(process).toHaveBeenCalledWith([1, 2]);
    await expect(Promise.all([a, b])).resolves.toEqual([2, 4]);
  });

  it('leftovers of a full batch wait for their own timeout, not a fresh one', async () => {
    const process = jest.fn(double);
    const batcher = new BatchProcessor({ batchSize: 2, batchTimeoutMs: 100, process });
    void batcher.add(1);
    await jest.advanceTimersByTimeAsync(30);
    void batcher.add(2); // fills the first batch
    const late = batcher.add(3);
    await jest.advanceTimersByTimeAsync(99);
    expect(process).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(process).toHaveBeenLastCalledWith([3]);
    await expect(late).resolves.toBe(6);
  });

  it('splits a burst into full batches, in order', async () => {
    const process = jest.fn(double);
    const batcher = new BatchProcessor({ batchSize: 4, batchTimeoutMs: 50, process, concurrency: 3 });
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => batcher.add(i)));
    await jest.advanceTimersByTimeAsync(50);
    expect(process.mock.calls.map((c) => c[0])).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    await expect(all).resolves.toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('a batch that throws rejects each of its items with that error; the next batch is unaffected', async () => {
    const boom = new Error('database unavailable');
    let calls = 0;
    const batcher = new BatchProcessor<number, number>({
      batchSize: 2,
      process: async (items) => {
        if (calls++ === 0) throw boom;
        return double(items);
      },
    });
    const first = [batcher.add(1), batcher.add(2)].map((p) => p.catch((e: unknown) => e));
    const second = [batcher.add(3), batcher.add(4)];
    await jest.advanceTimersByTimeAsync(0);
    await expect(Promise.all(first)).resolves.toEqual([boom, boom]);
    await expect(Promise.all(second)).resolves.toEqual([6, 8]);
  });

  it('a process that throws synchronously, or throws a non-error, still settles every item', async () => {
    const batcher = new BatchProcessor<number, number>({
      batchSize: 2,
      process: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a careless process may throw anything
        throw undefined;
      },
    });
    const settled = Promise.allSettled([batcher.add(1), batcher.add(2)]);
    await jest.advanceTimersByTimeAsync(0);
    expect(await settled).toEqual([
      { status: 'rejected', reason: undefined },
      { status: 'rejected', reason: undefined },
    ]);
  });

  it('an Error in the results rejects that item alone', async () => {
    const batcher = new BatchProcessor<number, number>({
      batchSize: 3,
      process: async (items) => items.map((n) => (n === 2 ? new Error('item 2 is bad') : n * 2)),
    });
    const settled = Promise.allSettled([batcher.add(1), batcher.add(2), batcher.add(3)]);
    await jest.advanceTimersByTimeAsync(0);
    expect(await settled).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('item 2 is bad') },
      { status: 'fulfilled', value: 6 },
    ]);
  });

  it('a result array of the wrong length rejects every item of the batch with HANDLER_FAILED', async () => {
    const batcher = new BatchProcessor<number, number>({ batchSize: 3, process: async () => [1, 2] });
    const settled = Promise.allSettled([batcher.add(1), batcher.add(2), batcher.add(3)]);
    await jest.advanceTimersByTimeAsync(0);
    const outcomes = await settled;
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      expect((o as PromiseRejectedResult).reason).toMatchObject({
        code: 'HANDLER_FAILED',
        message: 'BatchProcessor process answered 2 results for a batch of 3 items; it must answer one per item, in order',
      });
    }
  });

  it('a process that answers a non-array rejects every item', async () => {
    const batcher = new BatchProcessor<number, number>({ batchSize: 1, process: async () => null as never });
    await jest.advanceTimersByTimeAsync(0);
    await expect(batcher.add(1)).rejects.toMatchObject({ code: 'HANDLER_FAILED', message: expect.stringContaining('a null') });
  });

  it('close() processes every pending item, then refuses new ones with SHUTTING_DOWN', async () => {
    const { batches, gates, process } = gatedProcess();
    const batcher = new BatchProcessor<number, number>({ batchSize: 2, batchTimeoutMs: 10_000, process });
    const items = [1, 2, 3].map((n) => batcher.add(n));
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1, 2]]);
    let closed = false;
    const closing = batcher.close().then(() => (closed = true));
    expect(batcher.closed).toBe(true);
    await expect(batcher.add(4)).rejects.toMatchObject({ code: 'SHUTTING_DOWN', message: 'BatchProcessor is closed and takes no new items' });
    await jest.advanceTimersByTimeAsync(0);
    // concurrency 1: the pending item waits for the running batch, then goes without waiting for its timeout.
    expect(batches).toEqual([[1, 2]]);
    gates[0]!.resolve([10, 20]);
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1, 2], [3]]);
    expect(closed).toBe(false);
    gates[1]!.resolve([30]);
    await closing;
    await expect(Promise.all(items)).resolves.toEqual([10, 20, 30]);
    expect(batcher.pending).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('close() with pending items whose batch fails rejects each once, and resolves', async () => {
    const batcher = new BatchProcessor<number, number>({
      batchSize: 10,
      process: async () => {
        throw new SovError('UNAVAILABLE', 'sink down');
      },
    });
    const settled = Promise.allSettled([batcher.add(1), batcher.add(2)]);
    await batcher.close();
    expect((await settled).map((s) => s.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.close()).resolves.toBeUndefined();
  });

  it('never settles an item twice, whatever process does with the array it was given', async () => {
    const resolved = jest.fn();
    const batcher = new BatchProcessor<number, number>({
      batchSize: 2,
      process: async (items) => {
        items.push(99); // mutating the input changes nothing
        return [1, 2];
      },
    });
    const a = batcher.add(1).then(resolved);
    const b = batcher.add(2).then(resolved);
    await jest.advanceTimersByTimeAsync(0);
    await Promise.all([a, b]);
    expect(resolved.mock.calls).toEqual([[1], [2]]);
  });

  it('flush() runs what is waiting now and resolves once it is settled', async () => {
    const process = jest.fn(double);
    const batcher = new BatchProcessor({ batchSize: 100, batchTimeoutMs: 60_000, process });
    const a = batcher.add(1);
    const b = batcher.add(2);
    await batcher.flush();
    expect(process).toHaveBeenCalledWith([1, 2]);
    await expect(Promise.all([a, b])).resolves.toEqual([2, 4]);
    await batcher.flush(); // nothing waiting
    expect(process).toHaveBeenCalledTimes(1);
  });

  it('limits batches in flight to concurrency; waiting items go when a slot frees', async () => {
    const { batches, gates, process } = gatedProcess();
    const batcher = new BatchProcessor<number, number>({ batchSize: 1, concurrency: 2, process });
    const results = [1, 2, 3].map((n) => batcher.add(n));
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2]]);
    expect(batcher.activeBatches).toBe(2);
    gates[0]!.resolve([1]);
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2], [3]]);
    gates[1]!.resolve([2]);
    gates[2]!.resolve([3]);
    await expect(Promise.all(results)).resolves.toEqual([1, 2, 3]);
  });

  it('takes time from an injected clock', async () => {
    jest.useRealTimers();
    const clock = new ManualClock({ start: 0 });
    const process = jest.fn(double);
    const batcher = new BatchProcessor({ batchSize: 5, batchTimeoutMs: 250, process, clock });
    const a = batcher.add(21);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(249);
    expect(process).not.toHaveBeenCalled();
    clock.advance(1);
    await expect(a).resolves.toBe(42);
  });

  it('refuses bad options, listing every bad field', () => {
    expect(() => new BatchProcessor({ process: double, batchSize: 0, batchTimeoutMs: -1, concurrency: 1.5 })).toThrow(
      'Invalid BatchProcessor options: /batchSize must be an integer >= 1; /batchTimeoutMs must be a finite number >= 0; /concurrency must be an integer >= 1',
    );
  });

  it('has the guide name addItem', async () => {
    const batcher = new BatchProcessor({ batchSize: 1, process: double });
    await expect(batcher.addItem(4)).resolves.toBe(8);
  });
});

describe('BatchProcessor in a plain node script (the built package, no other timer)', () => {
  /** Runs `script` with node from this package (so '@sov/services' is the built dist); killed after 15 s as a guard, reported in `signal`. */
  function runNode(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }
  const esm = (body: string) => ['--input-type=module', '-e', `import { BatchProcessor } from '@sov/services';\n${body}`];
  const cjs = (body: string) => ['-e', `const { BatchProcessor } = require('@sov/services');\n(async () => {${body}})();`];

  // Each script's items wait for the batch timeout: only the processor's own timer can keep the process alive.
  const waiting = `
    const batches = new BatchProcessor({ batchSize: 10, batchTimeoutMs: 100, process: async (items) => items.map((i) => i * 2) });
    const results = await Promise.all([batches.addItem(1), batches.addItem(2), batches.addItem(3)]);
    console.log(JSON.stringify(results));`;
  // A full batch runs at once; the leftover item waits on the timer re-armed for it.
  const leftover = `
    const batches = new BatchProcessor({ batchSize: 2, batchTimeoutMs: 100, process: (items) => items.map((i) => i + 1) });
    const results = await Promise.all([1, 2, 3].map((i) => batches.add(i)));
    console.log(JSON.stringify(results));`;

  it.each([
    ['ESM, items waiting for the timeout', esm(waiting), '[2,4,6]'],
    ['CJS, items waiting for the timeout', cjs(waiting), '[2,4,6]'],
    ['ESM, the leftover of a full batch', esm(leftover), '[2,3,4]'],
  ])('keeps the process alive until pending items settle (%s)', async (_name, args, printed) => {
    const run = await runNode(args);
    expect({ code: run.code, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({ code: 0, stdout: printed, stderr: '' });
  });

  it.each([
    ['created and never used', `new BatchProcessor({ batchSize: 10, batchTimeoutMs: 60000, process: async (items) => items }); console.log('idle');`],
    [
      'after its work has settled, not closed',
      `const b = new BatchProcessor({ batchSize: 2, batchTimeoutMs: 60000, process: async (items) => items });
       await Promise.all([b.add(1), b.add(2)]);
       console.log('idle');`,
    ],
    [
      'after a rejected batch, not closed',
      `const b = new BatchProcessor({ batchSize: 1, batchTimeoutMs: 60000, process: async () => { throw new Error('boom'); } });
       await b.add(1).catch(() => undefined);
       console.log('idle');`,
    ],
  ])('lets an idle processor exit by itself (%s)', async (_name, body) => {
    const run = await runNode(esm(body));
    // Killed by the 15 s guard (not waiting out its 60 s batch timeout) would show as a signal.
    expect({ code: run.code, signal: run.signal, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({ code: 0, signal: null, stdout: 'idle', stderr: '' });
  });
});
