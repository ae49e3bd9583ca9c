import type { AgentEvent } from '../types';

/** One event inside the queue, from acceptance until its handlers settle. */
export interface QueuedEvent {
  readonly event: AgentEvent;
  readonly key: string | undefined;
  /** Whether the handlers may start: in durable mode, once the event is in the journal. */
  committed: boolean;
  /** Taken out before its turn (a failed journal write, dropOldest): skipped and never handled. */
  cancelled: boolean;
  /** Its record in the journal (durable mode). */
  journalKey: string | undefined;
  /** Accepted before a restart. */
  redelivered: boolean;
  next: QueuedEvent | undefined;
}

/** A FIFO of queued events (singly linked). */
class List {
  head: QueuedEvent | undefined;
  tail: QueuedEvent | undefined;
  size = 0;

  push(e: QueuedEvent): void {
    e.next = undefined;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.size++;
  }

  shift(): QueuedEvent | undefined {
    const h = this.head;
    if (!h) return undefined;
    this.head = h.next;
    h.next = undefined;
    if (!this.head) this.tail = undefined;
    this.size--;
    return h;
  }
}

/**
 * The waiting events, ordered per key. An event whose key has an earlier
 * event waiting or in flight is parked behind it; when that one settles
 * (`release`), the next of its key becomes ready. Events without a key and
 * the first of each key wait in one FIFO. `waiting` counts every event that
 * is neither in flight nor settled: the queue's depth, which its capacity bounds.
 */
export class EventQueue {
  private readonly ready = new List();
  /** Events whose predecessor of the same key settled: ready, ahead of the FIFO. */
  private readonly unparked = new List();
  /** Keys with an event ready or in flight, each with the events parked behind it. */
  private readonly claimed = new Map<string, List>();
  waiting = 0;

  add(e: QueuedEvent): void {
    this.waiting++;
    if (e.key === undefined) {
      this.ready.push(e);
      return;
    }
    const parked = this.claimed.get(e.key);
    if (parked) parked.push(e);
    else {
      this.claimed.set(e.key, new List());
      this.ready.push(e);
    }
  }

  /**
   * The next event whose turn has come, taken out of the waiting count; an
   * event not yet committed holds back those behind it in its list (their
   * order), and cancelled ones are discarded on the way.
   */
  take(): QueuedEvent | undefined {
    for (;;) {
      const list = this.unparked.head?.committed || this.unparked.head?.cancelled ? this.unparked : this.ready;
      const head = list.head;
      if (!head || (!head.committed && !head.cancelled)) return undefined;
      list.shift();
      if (head.cancelled) {
        this.release(head);
        continue;
      }
      this.waiting--;
      return head;
    }
  }

  /** Called once an event's handlers settled (or it was discarded): the next of its key may go. */
  release(e: QueuedEvent): void {
    if (e.key === undefined) return;
    const parked = this.claimed.get(e.key);
    if (!parked) return;
    const next = parked.shift();
    if (next) this.unparked.push(next);
    else this.claimed.delete(e.key);
  }

  /**
   * Marks an event cancelled and out of the count; it is discarded when its
   * turn comes (its key's order is kept). Returns false when it was already.
   */
  cancel(e: QueuedEvent): boolean {
    if (e.cancelled) return false;
    e.cancelled = true;
    this.waiting--;
    return true;
  }

  /**
   * Takes out the event that has waited longest at the head of the queue
   * (for dropOldest) and returns it, out of the count; undefined when none
   * waits. It leaves the lists at once, so a flood of drops holds no memory.
   */
  dropOldest(): QueuedEvent | undefined {
    for (const list of [this.ready, this.unparked]) {
      while (list.head) {
        const e = list.shift()!;
        // Heads hold their key: dropping one (or discarding a cancelled one) lets the next of its key go.
        this.release(e);
        if (e.cancelled) continue;
        e.cancelled = true;
        this.waiting--;
        return e;
      }
    }
    for (const parked of this.claimed.values()) {
      while (parked.head) {
        const e = parked.shift()!;
        if (e.cancelled) continue;
        e.cancelled = true;
        this.waiting--;
        return e;
      }
    }
    return undefined;
  }

  /** Every waiting event, in no particular order (shutdown). */
  *all(): Generator<QueuedEvent> {
    for (const list of [this.ready, this.unparked, ...this.claimed.values()]) {
      for (let e = list.head; e; e = e.next) if (!e.cancelled) yield e;
    }
  }
}
