/** A fault to inject into an HTTP exchange. */
export type Fault =
  /** Behave normally. */
  | { type: 'none' }
  /** Answer normally, `ms` later. */
  | { type: 'latency'; ms: number }
  /**
   * Answer with an error: `status`, the wire body `{ success: false, error: { code, message } }`,
   * and a Retry-After header when `retryAfterSec` is given.
   */
  | { type: 'error'; status: number; code?: string; message?: string; retryAfterSec?: number }
  /** Cut the connection without answering (the client sees a reset). */
  | { type: 'drop' }
  /** Take the request and never answer, until the server closes. */
  | { type: 'hang' };

/** How long a fault lasts: for the next `times` requests, or until changed. */
export interface FaultOptions {
  /** Requests the fault applies to; afterwards the standing fault applies again. @default every request until changed */
  times?: number;
}

/**
 * The switchable fault schedule that FaultyPeer and FaultProxy share: a
 * standing fault, plus one-shot faults queued in front of it.
 */
export class FaultSchedule {
  private standing: Fault = { type: 'none' };
  private readonly queue: Array<{ fault: Fault; left: number }> = [];

  /** Applies `fault` to every request until changed, or to the next `times` requests. */
  inject(fault: Fault, options: FaultOptions = {}): void {
    if (options.times === undefined) {
      this.queue.length = 0;
      this.standing = fault;
      return;
    }
    if (!Number.isInteger(options.times) || options.times < 1) throw new RangeError(`times must be an integer >= 1, got ${options.times}`);
    this.queue.push({ fault, left: options.times });
  }

  /** Back to normal behaviour. */
  clear(): void {
    this.inject({ type: 'none' });
  }

  /** The fault for the next request (consumes one use of a one-shot fault). */
  next(): Fault {
    const head = this.queue[0];
    if (!head) return this.standing;
    head.left--;
    if (head.left === 0) this.queue.shift();
    return head.fault;
  }
}
