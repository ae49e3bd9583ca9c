import { SovError, ValidationError, systemClock, type Clock, type FieldProblem } from '@sov/core';
import './errors/servicesErrorCodes'; // registers this package's error codes with core, also when this file is loaded without the index

/** Options of a BatchProcessor. */
export interface BatchProcessorOptions<TItem, TResult> {
  /**
   * Processes one batch. Answer one entry per item, in order: a result, or an
   * Error that rejects that item alone. Throwing (or rejecting) rejects every
   * item of the batch with that error.
   */
  process: (items: TItem[]) => Promise<ReadonlyArray<TResult | Error>> | ReadonlyArray<TResult | Error>;
  /** Items per batch: a batch runs as soon as this many are waiting. @default 100 */
  batchSize?: number;
  /** Longest an item waits for its batch to fill, in ms. @default 1000 */
  batchTimeoutMs?: number;
  /** Batches processed at once; more wait their turn. @default 1 */
  concurrency?: number;
  /** @default the system clock */
  clock?: Clock;
}

interface Pending<TItem, TResult> {
  item: TItem;
  addedAt: number;
  settled: boolean;
  resolve: (value: TResult) => void;
  reject: (reason: unknown) => void;
}

/**
 * Collects items into batches (the guide's BatchProcessor): `add(item)`
 * resolves to that item's own result. A batch runs when it is full or when
 * its oldest item has waited `batchTimeoutMs`, whichever comes first. Every
 * item is settled exactly once: with its result, its own Error, or the
 * error its whole batch failed with.
 *
 * `close()` stops intake and processes what is still waiting, so nothing
 * added before close is lost; `add` after close rejects with SHUTTING_DOWN.
 *
 * @example
 * const writes = new BatchProcessor<Row, number>({
 *   batchSize: 100,
 *   batchTimeoutMs: 50,
 *   process: (rows) => db.insertMany(rows), // one id per row, in order
 * });
 * const id = await writes.add({ name: 'a' });
 * await writes.close();
 */
export class BatchProcessor<TItem, TResult> {
  private readonly processBatch: BatchProcessorOptions<TItem, TResult>['process'];
  private readonly batchSize: number;
  private readonly batchTimeoutMs: number;
  private readonly concurrency: number;
  private readonly clock: Clock;
  private queue: Array<Pending<TItem, TResult>> = [];
  /** How many items at the head of the queue must go now (a flush or close asked for them). */
  private forced = 0;
  /** The oldest waiting item has waited batchTimeoutMs. */
  private due = false;
  private timer: unknown;
  private running = 0;
  private readonly batches = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(options: BatchProcessorOptions<TItem, TResult>) {
    const problems: FieldProblem[] = [];
    if (typeof options?.process !== 'function') problems.push({ path: '/process', message: 'must be a function' });
    const batchSize = options?.batchSize ?? 100;
    const batchTimeoutMs = options?.batchTimeoutMs ?? 1000;
    const concurrency = options?.concurrency ?? 1;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) problems.push({ path: '/batchSize', message: 'must be an integer >= 1' });
    if (!(Number.isFinite(batchTimeoutMs) && batchTimeoutMs >= 0)) problems.push({ path: '/batchTimeoutMs', message: 'must be a finite number >= 0' });
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) problems.push({ path: '/concurrency', message: 'must be an integer >= 1' });
    if (problems.length > 0) throw new ValidationError('BatchProcessor options', problems);
    this.processBatch = options.process;
    this.batchSize = batchSize;
    this.batchTimeoutMs = batchTimeoutMs;
    this.concurrency = concurrency;
    this.clock = options.clock ?? systemClock;
  }

  /** Items waiting for a batch. */
  get pending(): number {
    return this.queue.length;
  }

  /** Batches being processed now. */
  get activeBatches(): number {
    return this.running;
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Adds an item; resolves to its result when its batch has run. Rejects
   * with the item's own Error, its batch's error, or SHUTTING_DOWN after close().
   */
  add(item: TItem): Promise<TResult> {
    if (this.closing) {
      return Promise.reject(new SovError('SHUTTING_DOWN', 'BatchProcessor is closed and takes no new items'));
    }
    return new Promise<TResult>((resolve, reject) => {
      this.queue.push({ item, addedAt: this.clock.now(), settled: false, resolve, reject });
      if (this.queue.length === 1 && this.timer === undefined && !this.due) this.armTimer();
      this.pump();
    });
  }

  /** The guide's name for `add`. */
  addItem(item: TItem): Promise<TResult> {
    return this.add(item);
  }

  /**
   * Runs every waiting item now, without waiting for its batch to fill;
   * resolves when they, and the batches already running, are settled.
   */
  async flush(): Promise<void> {
    const running = [...this.batches];
    const waiting = this.queue.slice();
    if (waiting.length > 0) {
      this.forced = waiting.length;
      this.pump();
    }
    await Promise.allSettled(running);
    // With concurrency limits the flushed items may take several rounds of batches.
    while (waiting.some((p) => !p.settled)) await Promise.race(this.batches);
  }

  /**
   * Stops intake and processes every item still waiting; resolves when all
   * of them and every running batch are settled. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      this.clearTimer();
    })();
    return this.closing;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      if (!(this.queue.length >= this.batchSize || this.due || this.forced > 0)) break;
      const batch = this.queue.splice(0, this.batchSize);
      this.forced = Math.max(0, this.forced - batch.length);
      // The next oldest item starts its own wait: re-arm for it.
      this.due = false;
      this.clearTimer();
      if (this.queue.length > 0) this.armTimer();
      this.start(batch);
    }
  }

  private armTimer(): void {
    const oldest = this.queue[0];
    if (!oldest) return;
    const wait = oldest.addedAt + this.batchTimeoutMs - this.clock.now();
    if (wait <= 0) {
      this.due = true;
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.pump();
    }, wait);
    // The system clock's timers are unref'd; pending items must keep a plain script alive until their batch runs.
    (this.timer as { ref?: () => unknown } | undefined)?.ref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(batch: Array<Pending<TItem, TResult>>): void {
    this.running++;
    const done = this.run(batch).finally(() => {
      this.running--;
      this.batches.delete(done);
      this.pump();
    });
    this.batches.add(done);
  }

  private async run(batch: Array<Pending<TItem, TResult>>): Promise<void> {
    let results: ReadonlyArray<TResult | Error>;
    try {
      results = await this.processBatch(batch.map((p) => p.item));
    } catch (error) {
      for (const p of batch) settle(p, false, error);
      return;
    }
    if (!Array.isArray(results) || results.length !== batch.length) {
      const got = Array.isArray(results) ? `${results.length} results` : `a ${results === null ? 'null' : typeof results}`;
      const error = new SovError('HANDLER_FAILED', `BatchProcessor process answered ${got} for a batch of ${batch.length} items; it must answer one per item, in order`);
      for (const p of batch) settle(p, false, error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const r = results[i] as TResult | Error;
      settle(batch[i]!, !(r instanceof Error), r);
    }
  }
}

/** Settles an item once: resolved with `value` when ok, else rejected with it. */
function settle<TItem, TResult>(p: Pending<TItem, TResult>, ok: boolean, value: unknown): void {
  if (p.settled) return;
  p.settled = true;
  if (ok) p.resolve(value as TResult);
  else p.reject(value);
}
