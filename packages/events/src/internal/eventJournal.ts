import { systemClock, type Clock } from '@sov/core';
import type { StateOperation, StateStore } from '@sov/state';
import type { AgentEvent } from '../types';

const EVENT_PREFIX = 'events/';

/** The JSON shape of an event (an envelope's toJSON, or a plain object as it is). */
function plain(event: AgentEvent): unknown {
  const withJson = event as AgentEvent & { toJSON?: () => unknown };
  return typeof withJson.toJSON === 'function' ? withJson.toJSON() : event;
}
const CURSOR_PREFIX = 'cursor/';

/** An event as the journal keeps it. */
export interface JournaledEvent {
  seq: number;
  event: AgentEvent;
}

/**
 * The durable side of the queue, over any StateStore: one record per
 * accepted event (`events/<seq>`), removed once its handlers settled, and
 * the resume points of registry subscriptions (`cursor/<name>`). A write
 * resolves once the store holds it durably (a journal file store: fsynced).
 */
export class EventJournal {
  /**
   * Records of handled events waiting to be removed. A removal needs no
   * fsync of its own: lost in a crash, it only means the event is handled
   * again (at least once). So removals ride with the next append, in the
   * same write, or are written on their own after a short while (`flush`).
   */
  private removals: string[] = [];
  private timer: unknown;

  constructor(
    readonly store: StateStore,
    private readonly clock: Clock = systemClock,
    private readonly removeAfterMs = 50,
  ) {}

  keyOf(seq: number): string {
    // Fixed width, so keys sort in acceptance order.
    return `${EVENT_PREFIX}${seq.toString().padStart(16, '0')}`;
  }

  append(journalKey: string, event: AgentEvent): Promise<void> {
    if (this.removals.length === 0) return this.store.set(journalKey, plain(event));
    return this.write([{ type: 'set', key: journalKey, value: plain(event) }]);
  }

  /** Appends an event and moves a cursor in one write, so neither survives without the other. */
  appendWithCursor(journalKey: string, event: AgentEvent, cursor: string, position: string): Promise<void> {
    return this.write([
      { type: 'set', key: journalKey, value: plain(event) },
      { type: 'set', key: `${CURSOR_PREFIX}${cursor}`, value: position },
    ]);
  }

  /** Removes a handled event's record, with the next write or within removeAfterMs. */
  remove(journalKey: string): void {
    this.removals.push(journalKey);
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, this.removeAfterMs);
  }

  /** Writes the removals still waiting; resolves once they are durable. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.removals.length) await this.write([]);
  }

  private async write(ops: StateOperation[]): Promise<void> {
    const removals = this.removals;
    this.removals = [];
    try {
      await this.store.batch([...removals.map((key): StateOperation => ({ type: 'delete', key })), ...ops]);
    } catch (e) {
      // The write is refused as a whole (a value the store cannot hold): the removals wait for the next one.
      this.removals.push(...removals);
      throw e;
    }
  }

  setCursor(cursor: string, position: string): Promise<void> {
    return this.store.set(`${CURSOR_PREFIX}${cursor}`, position);
  }

  async cursor(cursor: string): Promise<string | undefined> {
    const v = await this.store.get<unknown>(`${CURSOR_PREFIX}${cursor}`);
    return typeof v === 'string' ? v : undefined;
  }

  /** Every event still in the journal, in acceptance order. */
  async pending(): Promise<JournaledEvent[]> {
    const out: JournaledEvent[] = [];
    for (const [key, value] of await this.store.entries<AgentEvent>(EVENT_PREFIX)) {
      const seq = Number(key.slice(EVENT_PREFIX.length));
      if (Number.isSafeInteger(seq) && value && typeof value === 'object' && typeof value.type === 'string') out.push({ seq, event: value });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}
