import type { RegistryEvent } from '@sov/core';

/** What one emitted event carries: its type names the data's shape. */
export type EventMap = Record<string, unknown>;

/**
 * One event as handlers receive it, the guide's `{ type, data, timestamp,
 * source }` plus an id. The envelope's fields are read-only (assigning one
 * throws); `data` is shared by the event's handlers, so treat it as read-only too.
 */
export interface AgentEvent<TType extends string = string, TData = unknown> {
  /** Unique per event and kept across restarts (durable mode): handlers dedupe on it. */
  readonly id: string;
  readonly type: TType;
  readonly data: TData;
  /** ISO time of emission (for registry events: when the registry recorded it). */
  readonly timestamp: string;
  /** Who emitted it: the agent id, or `registry` for registry events. */
  readonly source: string;
  /** Events with the same key are handled one after another, in emission order. */
  readonly key?: string | undefined;
}

/** What a handler gets beside the event. */
export interface HandlerContext {
  /** Aborted when the handler's timeout passes or shutdown runs out of time. */
  readonly signal: AbortSignal;
  /** True when the event was accepted before a restart and is handled again (durable mode): it may have been handled once already. */
  readonly redelivered: boolean;
}

/** An event handler: async, always (a sync function is refused when registered). */
export type EventHandler<TType extends string = string, TData = unknown> = (
  event: AgentEvent<TType, TData>,
  context: HandlerContext,
) => Promise<unknown>;

/** Options of one handler. */
export interface HandlerOptions {
  /** Shown in logs, metrics and error events. @default the function's name, or `anonymous` */
  name?: string;
  /** This handler's time budget per event, in ms. @default the bus's handlerTimeoutMs */
  timeoutMs?: number;
}

/** The data of an `error` event: which handler failed on which event, and why. */
export interface HandlerErrorData {
  eventId: string;
  eventType: string;
  handler: string;
  error: { code: string; message: string };
  /** True when the handler ran past its timeout. */
  timedOut: boolean;
}

/** The data of a registry event as it reaches the queue: the registry's data, plus the registry's own event id. */
export type RegistryEventData = RegistryEvent['data'] & { registryEventId: string };

/** The data of `request_received`: a call the agent's request route is about to serve. */
export interface RequestReceivedData {
  requestId: string;
  service: string;
  params: unknown;
  /** The verified caller's id; null for an anonymous call. */
  caller: string | null;
}

/** The data of `request_completed`. */
export interface RequestCompletedData {
  requestId: string;
  service: string;
  caller: string | null;
  result: unknown;
  durationMs: number;
}

/** The data of `request_failed`. */
export interface RequestFailedData {
  requestId: string;
  service: string;
  caller: string | null;
  error: { code: string; message: string };
  durationMs: number;
}

/** The events every bus knows: errors, the registry's events and the request route's. */
export interface BuiltinEvents {
  error: HandlerErrorData;
  peer_joined: RegistryEventData;
  peer_left: RegistryEventData;
  peer_updated: RegistryEventData;
  stake_changed: RegistryEventData;
  reputation_changed: RegistryEventData;
  new_request: RegistryEventData;
  request_received: RequestReceivedData;
  request_completed: RequestCompletedData;
  request_failed: RequestFailedData;
}

/** What to do with an event emitted while the queue is full. */
export type OverflowPolicy = 'wait' | 'reject' | 'dropOldest';

/** Counters of a bus since it was made. */
export interface EventStats {
  /** Events waiting for their turn. */
  depth: number;
  /** Events being handled now. */
  inFlight: number;
  /** Events accepted by emit (and registry events taken in). */
  accepted: number;
  /** Events whose handlers have all settled. */
  handled: number;
  /** Handler runs that threw, rejected or timed out. */
  failed: number;
  /** Events dropped: by dropOldest, by a full queue for internal events, or at shutdown (memory mode). */
  dropped: number;
  /** Emits refused with QUEUE_FULL. */
  rejected: number;
}

/** What stopping a bus did. */
export interface StopReport {
  /** Events handled while draining. */
  drained: number;
  /** Events left unhandled: kept in the journal (durable) or dropped (memory). */
  remaining: number;
  /** Whether the remaining events are kept for the next start. */
  kept: boolean;
}
