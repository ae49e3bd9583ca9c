import { REGISTRY_EVENT_TYPES, toSovError, type RegistryClient, type RegistryEvent, type RegistryEventSubscription, type RegistryEventType, type Signer } from '@sov/core';
import type { EventBus } from './eventBus';
import type { AgentEvent, EventMap } from './types';

/** Options of `subscribeRegistry`. */
export interface RegistrySubscriptionOptions {
  /** Only these registry event types. @default every type */
  types?: RegistryEventType[];
  /**
   * The name the resume point is stored under (durable mode); two
   * subscriptions of one agent (two registries) need two names. @default 'registry'
   */
  name?: string;
  /**
   * With no stored resume point (a first start), replay every event the
   * registry still retains instead of only new ones. @default false
   */
  fromStart?: boolean;
  /** The registry to follow. @default the agent's */
  registry?: RegistryClient;
}

/** A live registry subscription feeding an event bus. */
export interface RegistrySubscriptionHandle {
  /** The registry event id the subscription resumes after (the last one taken in). */
  readonly lastEventId: string | undefined;
  /** Stops following the registry. */
  close(): Promise<void>;
}

/** The id a registry event gets in the queue: the same after a replay, so handlers can dedupe. */
export function registryEventId(name: string, registryEventId: string): string {
  return `${name}:${registryEventId}`;
}

/**
 * Feeds one registry's event stream into a bus, with the bus's shape
 * (`source: 'registry'`, key: the peer id, so the events of one peer keep
 * their order). When a `wait` queue is full the stream is closed and opened
 * again from the last event taken in once there is room: the registry
 * replays the rest, so nothing inside its replay window is lost and memory
 * stays bounded. In durable mode the resume point is written with each
 * event, and a restarted agent resumes where it stopped.
 */
export class RegistrySubscription<E extends EventMap> implements RegistrySubscriptionHandle {
  private sub: RegistryEventSubscription | undefined;
  private cursor: string | undefined;
  private written: string | undefined;
  private closed = false;
  private paused = false;
  private readonly name: string;
  private readonly types: RegistryEventType[];

  constructor(
    private readonly bus: EventBus<E>,
    private readonly registry: RegistryClient,
    private readonly options: RegistrySubscriptionOptions,
    private readonly signer: Signer | undefined,
  ) {
    this.name = options.name ?? 'registry';
    this.types = options.types ?? [...REGISTRY_EVENT_TYPES];
  }

  get lastEventId(): string | undefined {
    return this.cursor;
  }

  /** Reads the stored resume point (durable mode) and opens the stream. */
  async open(): Promise<void> {
    const stored = await this.bus.journal?.cursor(this.name);
    this.cursor = stored;
    this.written = stored;
    this.connect(stored === undefined && this.options.fromStart === true);
  }

  async close(): Promise<void> {
    this.closed = true;
    const sub = this.sub;
    this.sub = undefined;
    await sub?.close();
  }

  private connect(fromStart: boolean): void {
    if (this.closed) return;
    const sub = this.registry.subscribe({
      types: this.types,
      ...(this.cursor !== undefined ? { lastEventId: this.cursor } : fromStart ? { fromStart: true } : {}),
      // new_request reaches only the agent it names, over a subscription that agent signed.
      ...(this.signer ? { signer: this.signer } : {}),
    });
    this.sub = sub;
    sub.onEvent((e) => this.take(sub, e));
    sub.onPosition?.((position) => this.moved(sub, position));
    sub.onError((e) => this.bus.logger.warn('registry event stream failed; reconnecting', { registry: this.name, code: e.code, error: e.message }));
  }

  private take(sub: RegistryEventSubscription, e: RegistryEvent): void {
    if (sub !== this.sub || this.paused) return;
    const event: AgentEvent = Object.freeze({
      id: registryEventId(this.name, e.id),
      type: e.type,
      data: Object.freeze({ ...e.data, registryEventId: e.id }),
      timestamp: e.at,
      source: 'registry',
      key: e.data.peer_id,
    });
    const outcome = this.bus.offerExternal(event, this.bus.durable ? { name: this.name, position: e.id } : undefined);
    if (outcome === 'full') return this.pause(sub);
    // Taken in (or refused by a reject policy): either way the stream has moved past it.
    this.cursor = e.id;
    if (outcome === 'accepted' && this.bus.durable) this.written = e.id;
  }

  private moved(sub: RegistryEventSubscription, position: string): void {
    if (sub !== this.sub || this.paused) return;
    this.cursor = position;
    const journal = this.bus.journal;
    if (!journal || this.written === position) return;
    this.written = position;
    journal.setCursor(this.name, position).catch((e: unknown) => this.bus.logger.warn('registry resume point not stored', { registry: this.name, error: toSovError(e).message }));
  }

  /** No room: stop reading; come back from the last event taken in once the queue has drained to half. */
  private pause(sub: RegistryEventSubscription): void {
    this.paused = true;
    this.sub = undefined;
    void sub.close();
    this.bus.logger.info('event queue full; registry stream paused', { registry: this.name, resumeAfter: this.cursor });
    void this.bus.whenRoom().then(() => {
      this.paused = false;
      if (this.bus.isRunning) this.connect(false);
    });
  }
}
