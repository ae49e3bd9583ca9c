import { SovError, type Clock } from '@sov/core';
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
    const timers: Array<{ fn: () => void; ms: number }> = [];
    const clock: Clock = { now: () => 0, setTimeout: (fn, ms) => timers.push({ fn, ms }), clearTimeout: () => undefined };
    const process = jest.fn(double);
    const batcher = new BatchProcessor({ batchSize: 5, batchTimeoutMs: 250, process, clock });
    const a = batcher.add(21);
    expect(timers).toEqual([{ fn: expect.any(Function), ms: 250 }]);
    timers[0]!.fn();
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
