import EventEmitter from 'eventemitter3';
import { createParser } from 'eventsource-parser';
import { systemClock, type Clock } from './clock';
import { NetworkError } from './errors/networkError';
import { RemoteError } from './errors/remoteError';
import { toSovError, type SovError } from './errors/sovError';
import type { Signer } from './ports';
import { REGISTRY_EVENT_TYPES, type RegistryEvent, type RegistryEventType } from './wire';

/** Options of a registry event subscription. */
export interface RegistryEventsOptions {
  /** Only these event types. @default every type */
  types?: RegistryEventType[];
  /** Resume after this event id (as if reconnecting). */
  lastEventId?: string;
  /**
   * Replay every event the registry still retains before the live ones
   * (as `lastEventId: '0'`). Without it, and without lastEventId, a new
   * subscription gets only events from now on. @default false
   */
  fromStart?: boolean;
  /** First reconnect delay in ms; doubles up to maxReconnectDelayMs. @default 250 */
  reconnectDelayMs?: number;
  /** @default 5000 */
  maxReconnectDelayMs?: number;
  /** Signs the subscription request (needed to receive `new_request` events addressed to you). */
  signer?: Signer;
  /** @default the system clock */
  clock?: Clock;
}

interface StreamEvents {
  event: [RegistryEvent];
  position: [string];
  error: [SovError];
  connect: [];
}

const knownTypes = new Set<string>(REGISTRY_EVENT_TYPES);

/** A live subscription to registry events (what RegistryClient.subscribe returns). */
export interface RegistryEventSubscription {
  /** The id of the last event delivered; a new subscription can resume from it. */
  readonly lastEventId: string | undefined;
  /** Subscribes to events, delivered in order; returns a function that unsubscribes. */
  onEvent(listener: (event: RegistryEvent) => void): () => void;
  /** Subscribes to connection errors (the subscription keeps trying); returns a function that unsubscribes. */
  onError(listener: (error: SovError) => void): () => void;
  /**
   * Subscribes to moves of the resume point (`lastEventId`): after each event,
   * and when the registry tells a new stream where it stands. Store the id to
   * resume there after a restart. Optional: test doubles may leave it out.
   */
  onPosition?(listener: (lastEventId: string) => void): () => void;
  /** Closes the subscription for good. */
  close(): Promise<void>;
}

/**
 * A live subscription to a registry's event stream (server-sent events). It
 * reconnects on its own after a dropped connection and resumes with
 * Last-Event-ID, so no event inside the registry's replay window is lost.
 *
 * @example
 * const events = registry.subscribe({ types: ['peer_joined', 'peer_left'] });
 * events.onEvent((e) => console.log(e.type, e.data.peer_id));
 * // later
 * events.close();
 */
export class RegistryEventStream implements RegistryEventSubscription {
  private readonly emitter = new EventEmitter<StreamEvents>();
  private readonly url: string;
  private readonly options: RegistryEventsOptions;
  private readonly clock: Clock;
  private controller: AbortController | undefined;
  private closed = false;
  private lastId: string | undefined;
  private running: Promise<void> | undefined;
  private connected = false;

  constructor(baseUrl: string, options: RegistryEventsOptions = {}) {
    const params = new URLSearchParams();
    for (const t of options.types ?? []) params.append('type', t);
    const qs = params.toString();
    this.url = `${baseUrl.replace(/\/+$/, '')}/v1/events${qs ? `?${qs}` : ''}`;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.lastId = options.lastEventId ?? (options.fromStart ? '0' : undefined);
  }

  /** The id of the last event delivered; a new subscription can resume from it. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Whether the stream is connected right now. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Subscribes to events, delivered in order; returns a function that unsubscribes. */
  onEvent(listener: (event: RegistryEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Subscribes to connection errors (the stream keeps reconnecting); returns a function that unsubscribes. */
  onError(listener: (error: SovError) => void): () => void {
    this.emitter.on('error', listener);
    return () => this.emitter.off('error', listener);
  }

  /** Subscribes to moves of the resume point (after each event, and the registry's `stream_position`); returns a function that unsubscribes. */
  onPosition(listener: (lastEventId: string) => void): () => void {
    this.emitter.on('position', listener);
    return () => this.emitter.off('position', listener);
  }

  /** Subscribes to each (re)connection; returns a function that unsubscribes. */
  onConnect(listener: () => void): () => void {
    this.emitter.on('connect', listener);
    return () => this.emitter.off('connect', listener);
  }

  /** Opens the stream; called by RegistryClient.subscribe. */
  start(): this {
    this.running ??= this.loop();
    return this;
  }

  /** Closes the stream for good. */
  async close(): Promise<void> {
    this.closed = true;
    this.controller?.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    let delay = this.options.reconnectDelayMs ?? 250;
    const maxDelay = this.options.maxReconnectDelayMs ?? 5000;
    while (!this.closed) {
      try {
        const delivered = await this.connectOnce();
        if (delivered) delay = this.options.reconnectDelayMs ?? 250;
      } catch (e) {
        if (this.closed) break;
        this.emitter.emit('error', toSovError(e));
      }
      this.connected = false;
      if (this.closed) break;
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, delay));
      delay = Math.min(maxDelay, delay * 2);
    }
  }

  /** One connection; resolves when it ends, to whether it delivered anything. */
  private async connectOnce(): Promise<boolean> {
    this.controller = new AbortController();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastId !== undefined) headers['last-event-id'] = this.lastId;
    if (this.options.signer) {
      Object.assign(headers, await this.options.signer.sign({ method: 'GET', url: this.url, body: new Uint8Array(0), headers }));
    }
    let response: Response;
    try {
      response = await fetch(this.url, { headers, signal: this.controller.signal });
    } catch (cause) {
      throw new NetworkError('GET', this.url, { cause });
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      let code = 'REMOTE_ERROR';
      let message = response.statusText;
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = parsed.error?.code ?? code;
        message = parsed.error?.message ?? message;
      } catch {
        // not JSON: keep the status text
      }
      throw new RemoteError({ code, message, status: response.status, method: 'GET', url: this.url });
    }
    this.connected = true;
    this.emitter.emit('connect');
    let delivered = false;
    const parser = createParser({
      onEvent: (msg) => {
        // Every id moves the resume point, the registry's `stream_position` (where a new stream starts) included.
        if (msg.id !== undefined) this.lastId = msg.id;
        if (!msg.event || !knownTypes.has(msg.event)) {
          if (msg.id !== undefined) this.emitter.emit('position', msg.id);
          return;
        }
        let data: RegistryEvent['data'];
        try {
          data = JSON.parse(msg.data) as RegistryEvent['data'];
        } catch {
          return;
        }
        const payload = data as unknown as { at?: string; data?: RegistryEvent['data'] };
        const event: RegistryEvent = {
          id: msg.id ?? '',
          type: msg.event as RegistryEventType,
          at: payload.at ?? new Date(this.clock.now()).toISOString(),
          data: payload.data ?? data,
        };
        delivered = true;
        this.emitter.emit('event', event);
        if (msg.id !== undefined) this.emitter.emit('position', msg.id);
      },
    });
    const decoder = new TextDecoder();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      if (!this.closed) throw new NetworkError('GET', this.url, { cause: e });
    }
    return delivered;
  }
}
