import type { AgentEvent } from '../types';

/**
 * An event as the bus makes it. Every field is a getter over a private
 * field, so a handler cannot change what the event's other handlers see
 * (assigning one throws a TypeError); that costs nothing, where freezing each
 * event cost more than the rest of queuing it. The id and the ISO timestamp
 * are written only when read, and `toJSON` gives the plain shape that logs
 * and the journal keep.
 */
export class EventEnvelope<TType extends string = string, TData = unknown> implements AgentEvent<TType, TData> {
  readonly #idPrefix: string;
  readonly #seq: number;
  readonly #type: TType;
  readonly #data: TData;
  /** Emission time, ms since the epoch. */
  readonly #at: number;
  readonly #source: string;
  readonly #key: string | undefined;

  constructor(idPrefix: string, seq: number, type: TType, data: TData, at: number, source: string, key: string | undefined) {
    this.#idPrefix = idPrefix;
    this.#seq = seq;
    this.#type = type;
    this.#data = data;
    this.#at = at;
    this.#source = source;
    this.#key = key;
  }

  /** The bus's random prefix and this event's sequence number. */
  get id(): string {
    return `${this.#idPrefix}${this.#seq.toString(36)}`;
  }

  get type(): TType {
    return this.#type;
  }

  get data(): TData {
    return this.#data;
  }

  get timestamp(): string {
    return new Date(this.#at).toISOString();
  }

  get source(): string {
    return this.#source;
  }

  get key(): string | undefined {
    return this.#key;
  }

  toJSON(): { id: string; type: TType; data: TData; timestamp: string; source: string; key?: string } {
    return {
      id: this.id,
      type: this.#type,
      data: this.#data,
      timestamp: this.timestamp,
      source: this.#source,
      ...(this.#key !== undefined ? { key: this.#key } : {}),
    };
  }
}
