import { abortErrorOf } from '@sov/core';
import { bulkhead, type BulkheadPolicy } from 'cockatiel';
import { BulkheadRejectedError } from './errors/bulkheadRejectedError';
import { isBulkheadRejected, isTaskCancelled } from './internal/cockatielErrors';
import { NEVER_ABORTED } from './internal/neverAborted';
import type { Dispose, Policy, Work } from './policy';

/** Options of a Bulkhead. */
export interface BulkheadOptions {
  /** Calls that run at once. */
  limit: number;
  /** Calls that may wait for a free slot; the next one is refused. @default 0 */
  queue?: number;
  /** Name used in errors. @default 'bulkhead' */
  name?: string;
}

/**
 * Caps the calls running at once, so that one slow dependency cannot take
 * every socket, every handler, all the memory. A call beyond `limit` waits in
 * a queue of `queue` places; beyond that it is refused at once with a
 * BulkheadRejectedError (BULKHEAD_FULL, answered as 429). On cockatiel.
 *
 * @example
 * const bulkhead = new Bulkhead({ limit: 32, queue: 64 });
 * const reply = await bulkhead.execute(() => peers.call(url, request));
 */
export class Bulkhead implements Policy {
  /** Calls that run at once. */
  readonly limit: number;
  /** Places in the queue. */
  readonly queue: number;
  private readonly name: string;
  private readonly inner: BulkheadPolicy;

  constructor(options: BulkheadOptions) {
    this.limit = options.limit;
    this.queue = options.queue ?? 0;
    this.name = options.name ?? 'bulkhead';
    if (!Number.isInteger(this.limit) || this.limit < 1) throw new RangeError(`Bulkhead limit must be an integer >= 1, got ${this.limit}`);
    if (!Number.isInteger(this.queue) || this.queue < 0) throw new RangeError(`Bulkhead queue must be an integer >= 0, got ${this.queue}`);
    this.inner = bulkhead(this.limit, this.queue);
  }

  /** Free execution slots right now. */
  get executionSlots(): number {
    return this.inner.executionSlots;
  }

  /** Calls waiting in the queue right now. */
  get queued(): number {
    return this.queue - this.inner.queueSlots;
  }

  /** Calls running right now. */
  get active(): number {
    return this.limit - this.inner.executionSlots;
  }

  /** Runs `fn` when a slot is free; rejects with BulkheadRejectedError when slots and queue are full. */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    const s = signal ?? NEVER_ABORTED;
    // With a slot free cockatiel runs the work at once and refuses nothing: hand its promise back as it is.
    if (this.inner.executionSlots > 0 && !s.aborted) return this.inner.execute(fn, s);
    return this.queueOrRefuse(fn, s);
  }

  private async queueOrRefuse<T>(fn: Work<T>, signal: AbortSignal): Promise<T> {
    try {
      return await this.inner.execute(fn, signal);
    } catch (e) {
      if (isBulkheadRejected(e)) throw new BulkheadRejectedError(this.name, this.limit, this.queue);
      // cockatiel's TaskCancelledError for a call whose caller gave up (before or while queued) says CANCELLED.
      if (signal.aborted && isTaskCancelled(e)) throw abortErrorOf(signal, `Bulkhead ${this.name}`);
      throw e;
    }
  }

  /** Subscribes to refused calls; returns a function that unsubscribes. */
  onReject(listener: () => void): Dispose {
    const sub = this.inner.onReject(() => listener());
    return () => sub.dispose();
  }
}
