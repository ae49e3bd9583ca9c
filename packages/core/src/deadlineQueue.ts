import { systemClock, type Clock } from './clock';

/** Something with a deadline, linked into a DeadlineQueue. */
export interface DeadlineEntry {
  /** Clock time (ms) at which the entry expires. */
  deadline: number;
  /** Set once the work is over; a done entry is skipped, never expired. */
  done: boolean;
  /** The queue's link; set by the queue. */
  next: DeadlineEntry | undefined;
  /** Called once, when the deadline passes before the work is done. */
  expire(): void;
}

/**
 * Deadlines that arrive in order: every entry of one queue has the same time
 * budget (one service's timeout, one policy's), so a FIFO list with one timer
 * armed for its head replaces a timer per call. A timer costs more than the
 * rest of a small call; with calls in flight, this one fires about once per
 * budget instead of being set and cleared for each call. Finished entries are
 * dropped from the head as they finish, or skipped when the timer reaches
 * them; an idle queue's timer fires once more and is not armed again.
 *
 * @example
 * const queue = new DeadlineQueue(clock);
 * const entry = { deadline: clock.now() + 2_000, done: false, next: undefined, expire: () => controller.abort() };
 * queue.add(entry);
 * work.finally(() => queue.finish(entry));
 */
export class DeadlineQueue {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  private timer: unknown;
  private readonly onTimer = () => this.fire();

  constructor(private readonly clock: Clock = systemClock) {}

  /** Entries still linked (pending ones, and done ones not yet dropped). */
  get isEmpty(): boolean {
    return this.head === undefined;
  }

  /** Links an entry; its deadline must not be earlier than those already queued. */
  add(entry: DeadlineEntry): void {
    entry.next = undefined;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (this.timer === undefined) this.arm(entry.deadline);
  }

  /**
   * Marks an entry done and drops finished entries from the head. The timer
   * is left to lapse even when nothing is left: clearing it and arming it
   * again for the next call would cost more than the call (one call at a
   * time empties the queue every time). It fires once, finds nothing, and
   * is not armed again.
   */
  finish(entry: DeadlineEntry): void {
    entry.done = true;
    while (this.head?.done) this.pop();
  }

  /** Stops the timer; entries still pending never expire. */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = undefined;
  }

  private pop(): void {
    const h = this.head!;
    this.head = h.next;
    h.next = undefined;
    if (!this.head) this.tail = undefined;
  }

  private arm(deadline: number): void {
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(0, deadline - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.head && (this.head.done || this.head.deadline <= now)) {
      const h = this.head;
      this.pop();
      if (!h.done) {
        h.done = true;
        h.expire();
      }
    }
    if (this.head && this.timer === undefined) this.arm(this.head.deadline);
  }
}
