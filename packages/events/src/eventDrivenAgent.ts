import { Agent, type AgentOptions, type RegistryEventType } from '@sov/core';
import { events, type EventsApi, type EventsOptions } from './events';
import type { EmitOptions } from './eventBus';
import type { AgentEvent, BuiltinEvents, EventHandler, EventMap, HandlerOptions } from './types';

/** Options of an EventDrivenAgent: an Agent's, plus the events capability's. */
export interface EventDrivenAgentOptions extends AgentOptions {
  /** The events capability's options. */
  events?: EventsOptions;
  /**
   * Registry events to follow, as the guide's agent does; false for none.
   * An agent without a registry follows none.
   * @default ['new_request', 'peer_joined', 'peer_left']
   */
  registryEvents?: RegistryEventType[] | false;
}

type Full<E extends EventMap> = BuiltinEvents & E;
type TypeOf<E extends EventMap> = Extract<keyof Full<E>, string>;

/**
 * The guide's EventDrivenAgent, ready-made: an Agent with the events
 * capability in use, following its registry's `new_request`, `peer_joined`
 * and `peer_left` events. Composition underneath; use
 * `agent.use(events())` on a plain Agent to combine it with other
 * capabilities the same way.
 *
 * @example
 * const agent = new EventDrivenAgent<{ reading: { value: number } }>({ name: 'watcher', registryUrl, identity });
 * agent.on('peer_joined', async (e) => console.log('peer', e.data.peer_id));
 * agent.on('error', async (e) => console.error(e.data.handler, e.data.error.message));
 * await agent.start();
 * await agent.emit('reading', { value: 3 });
 */
export class EventDrivenAgent<E extends EventMap = EventMap> extends Agent {
  /** The agent's event bus. */
  readonly events: EventsApi<E>;

  constructor(options: EventDrivenAgentOptions) {
    super(options);
    this.events = this.use(events<E>(options.events));
    const types = options.registryEvents ?? ['new_request', 'peer_joined', 'peer_left'];
    if (types !== false) {
      // Opened at start; an agent without a registry (standalone) has none to follow.
      this.events.subscribeRegistry({ types }).catch(() => undefined);
    }
  }

  /** Adds a handler (async); returns a function that removes it. */
  on<K extends TypeOf<E>>(type: K, handler: EventHandler<K, Full<E>[K]>, options?: HandlerOptions): () => void {
    return this.events.on(type, handler, options);
  }

  /** Queues an event; resolves once it is accepted. */
  emit<K extends TypeOf<E>>(type: K, data: Full<E>[K], options?: EmitOptions): Promise<AgentEvent<K, Full<E>[K]>> {
    return this.events.emit(type, data, options);
  }
}
