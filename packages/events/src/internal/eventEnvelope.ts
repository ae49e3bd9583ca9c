import type { AgentEvent } from '../types';

/**
 * An event as the bus makes it. The id and the ISO timestamp are written
 * only when read (formatting costs more than the rest of queuing a small event), and
 * `toJSON` gives the plain shape that logs and the journal keep.
 */
export class EventEnvelope<TType extends string = string, TData = unknown> implements AgentEvent<TType, TData> {
  declare readonly key?: string;

  constructor(
    /** The bus's id prefix; the id is it and the sequence number, joined only when read. */
    private readonly idPrefix: string,
    private readonly seq: number,
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

  get id(): string {
    return `${this.idPrefix}${this.seq.toString(36)}`;
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
