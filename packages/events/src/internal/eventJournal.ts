import type { StateStore } from '@sov/state';
import type { AgentEvent } from '../types';

const EVENT_PREFIX = 'events/';
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
  constructor(readonly store: StateStore) {}

  keyOf(seq: number): string {
    // Fixed width, so keys sort in acceptance order.
    return `${EVENT_PREFIX}${seq.toString().padStart(16, '0')}`;
  }

  append(journalKey: string, event: AgentEvent): Promise<void> {
    return this.store.set(journalKey, event);
  }

  /** Appends an event and moves a cursor in one write, so neither survives without the other. */
  appendWithCursor(journalKey: string, event: AgentEvent, cursor: string, position: string): Promise<void> {
    return this.store.batch([
      { type: 'set', key: journalKey, value: event },
      { type: 'set', key: `${CURSOR_PREFIX}${cursor}`, value: position },
    ]);
  }

  remove(journalKey: string): Promise<boolean> {
    return this.store.delete(journalKey);
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
