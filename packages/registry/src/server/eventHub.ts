import type { ServerResponse } from 'node:http';
import EventEmitter from 'eventemitter3';
import type { Counter } from 'prom-client';
import type { Clock, RegistryEvent, RegistryEventType } from '@sov/core';
import type { RegistryStore } from '../registryStore';

/** One open event stream (GET /v1/events). */
export interface Subscriber {
  /** The event types it asked for; undefined for all. */
  types: Set<RegistryEventType> | undefined;
  /** The verified agent that opened it (it alone gets the requests addressed to it). */
  caller: string | undefined;
  res: ServerResponse;
  /** Id of the last event it was sent; older ones are not sent again. */
  lastSent: number;
  /** Live events that arrived while the replay was being sent. */
  pending: RegistryEvent[] | undefined;
}

/** What an EventHub writes to, counts with and tells. */
export interface EventHubOptions {
  store: RegistryStore;
  clock: Clock;
  /** Interval of keep-alive comments on the streams, in ms. */
  keepAliveMs: number;
  /** Counts the events this registry publishes, by type. */
  published: Counter<'type'>;
  /** Told of every event before its subscribers are: this registry's before it is written, another replica's as it arrives. */
  beforeEvent(type: RegistryEventType): void;
}

/**
 * The registry's events: each is appended to the store's log, then handed to
 * the in-process listeners (`onEvent`) and to the SSE subscribers whose
 * filter it passes. With a store that feeds events (a shared store), every
 * replica's events, this one's included, arrive through the store, in id
 * order; otherwise this registry hands on its own as it writes them.
 */
export class EventHub {
  private readonly emitter = new EventEmitter<{ event: [RegistryEvent] }>();
  private readonly subscribers = new Set<Subscriber>();
  /** Set while a shared store feeds events to fanOut. */
  private unsubscribeStore: (() => void) | undefined;
  private keepAliveTimer: unknown;
  private closed = false;

  constructor(private readonly options: EventHubOptions) {}

  /** Open event streams. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Subscribes to every event in this process; returns a function that unsubscribes. */
  onEvent(listener: (event: RegistryEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Follows the store's event feed when it has one (call once the store is open). */
  followStore(): void {
    this.unsubscribeStore = this.options.store.subscribeEvents?.((event) => {
      this.options.beforeEvent(event.type);
      this.fanOut(event);
    });
  }

  /** Writes a keep-alive comment to every stream each keepAliveMs, until close. */
  startKeepAlive(): void {
    if (this.closed) return;
    this.keepAliveTimer = this.options.clock.setTimeout(() => {
      for (const s of this.subscribers) s.res.write(': keep-alive\n\n');
      this.startKeepAlive();
    }, this.options.keepAliveMs);
  }

  /** Appends an event to the store's log and hands it on. */
  async publish(type: RegistryEventType, data: RegistryEvent['data']): Promise<void> {
    const { store, clock, published } = this.options;
    this.options.beforeEvent(type);
    const event = await store.appendEvent({ type, at: new Date(clock.now()).toISOString(), data });
    published.inc({ type });
    if (!this.unsubscribeStore) this.fanOut(event);
  }

  /**
   * Adds a stream that is still being replayed: live events wait in its
   * `pending` list until `goLive`. Subscribed before the store is read, so
   * that an event appended meanwhile cannot fall between the two.
   */
  add(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
  }

  remove(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
  }

  /** Sends a stream its replayed events, then the live ones that waited, and from then on each event as it comes. */
  goLive(subscriber: Subscriber, replayed: readonly RegistryEvent[]): void {
    for (const e of replayed) this.deliver(subscriber, e);
    const pending = subscriber.pending ?? [];
    subscriber.pending = undefined;
    for (const e of pending) this.deliver(subscriber, e);
  }

  /** Stops the keep-alive and the store feed, and ends every stream. */
  close(): void {
    this.closed = true;
    if (this.keepAliveTimer !== undefined) this.options.clock.clearTimeout(this.keepAliveTimer);
    this.unsubscribeStore?.();
    for (const s of this.subscribers) s.res.end();
    this.subscribers.clear();
  }

  private fanOut(event: RegistryEvent): void {
    this.emitter.emit('event', event);
    for (const s of this.subscribers) {
      if (s.pending) s.pending.push(event);
      else this.deliver(s, event);
    }
  }

  private deliver(s: Subscriber, event: RegistryEvent): void {
    const seq = Number(event.id);
    if (seq <= s.lastSent) return;
    if (s.types && !s.types.has(event.type)) return;
    // Requests addressed to an agent go only to that agent's own (signed) stream.
    if (event.type === 'new_request' && s.caller !== event.data.peer_id) return;
    s.lastSent = seq;
    s.res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify({ at: event.at, data: event.data })}\n\n`);
  }
}
