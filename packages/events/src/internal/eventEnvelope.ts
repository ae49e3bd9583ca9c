import type { AgentEvent } from '../types';

/**
 * An event as the bus makes it. The ISO timestamp is written only when read
 * (formatting a date costs more than the rest of queuing a small event), and
 * `toJSON` gives the plain shape that logs and the journal keep.
 */
export class EventEnvelope<TType extends string = string, TData = unknown> implements AgentEvent<TType, TData> {
  declare readonly key?: string;

  constructor(
    readonly id: string,
    readonly type: TType,
    readonly data: TData,
    /** Emission time, ms since the epoch. */
    private readonly at: number,
    readonly source: string,
    key: string | undefined,
  ) {
    if (key !== undefined) (this as { key?: string }).key = key;
    Object.freeze(this);
  }

  get timestamp(): string {
    return new Date(this.at).toISOString();
  }

  toJSON(): { id: string; type: TType; data: TData; timestamp: string; source: string; key?: string } {
    return {
      id: this.id,
      type: this.type,
      data: this.data,
      timestamp: this.timestamp,
      source: this.source,
      ...(this.key !== undefined ? { key: this.key } : {}),
    };
  }
}
