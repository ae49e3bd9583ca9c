import type { Clock } from '@sov/core';

/** Something with a deadline, linked into a DeadlineQueue. */
export interface DeadlineEntry {
  deadline: number;
  /** Set once the work is over; a done entry is skipped, never expired. */
  done: boolean;
  next: DeadlineEntry | undefined;
  /** Called once, when the deadline passes before the work is done. */
  expire(): void;
}

/**
 * Deadlines of one service. Every request of a service has the same timeout,
 * so deadlines arrive in order: a FIFO list with one timer armed for its head
 * replaces a timer per request (a timer costs more than the rest of a small
 * request). Finished entries are dropped from the head as they finish, or
 * skipped when the timer reaches them.
 */
export class DeadlineQueue {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  private timer: unknown;
  private readonly onTimer = () => this.fire();

  constructor(private readonly clock: Clock) {}

  add(entry: DeadlineEntry): void {
    entry.next = undefined;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (this.timer === undefined) this.arm(entry.deadline);
  }

  /** Marks an entry done and drops finished entries from the head. */
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
    if (this.head) this.arm(this.head.deadline);
  }
}
