import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import EventEmitter from 'eventemitter3';
import { SovError, TimeoutError, ValidationError, systemClock, toSovError, type Clock, type Logger } from '@sov/core';
import { DeadlineQueue } from '@sov/core/internal';
import type { StateStore } from '@sov/state';
import type { Registry } from 'prom-client';
import { QueueFullError } from './errors/queueFullError';
import { EventJournal } from './internal/eventJournal';
import { HandlerStats, registerEventMetrics, type EventCounters } from './internal/eventMetrics';
import { EventEnvelope } from './internal/eventEnvelope';
import { EventQueue } from './internal/eventQueue';
import { DeadlineCohort, HandlerRun, RunShared, type Registration } from './internal/handlerRun';
import type {
  AgentEvent,
  BuiltinEvents,
  EventHandler,
  EventMap,
  EventStats,
  HandlerErrorData,
  HandlerOptions,
  OverflowPolicy,
  StopReport,
} from './types';

/** Options of an EventBus. */
export interface EventBusOptions {
  /** The `source` of emitted events (an agent's bus uses the agent id). @default 'local' */
  source?: string;
  /** Events that may wait in the queue; memory is bounded by it, not by how many are emitted. @default 1024 */
  capacity?: number;
  /** Events handled at once (all handlers of one event run together). @default 16 */
  concurrency?: number;
  /**
   * What `emit` does when the queue is full: `wait` for room (a bounded
   * number of emitters may wait, `maxWaitingEmitters`; past it emit refuses),
   * `reject` with QUEUE_FULL, or `dropOldest`: drop the event that has waited
   * longest and take the new one (counted as dropped).
   * @default 'wait'
   */
  overflow?: OverflowPolicy;
  /** Under `wait`, emitters that may wait for room at once; more are refused with QUEUE_FULL. @default capacity */
  maxWaitingEmitters?: number;
  /** A handler's time budget per event, in ms; past it its signal aborts and it counts as failed. @default 30_000 */
  handlerTimeoutMs?: number;
  /**
   * Durable mode: every accepted event is written to this store before emit
   * resolves, and removed once all its handlers settled; `start()` queues
   * again what a crash left (at least once: handlers dedupe on the event id).
   * A journal FileStateStore is the usual choice. @default none: memory only
   */
  journal?: StateStore;
  /** @default silent */
  logger?: Logger;
  /** @default the system clock */
  clock?: Clock;
}

/** Options of one emit. */
export interface EmitOptions {
  /** Events with the same key are handled one after another, in emission order. @default none: handled in parallel */
  key?: string;
}

type Full<E extends EventMap> = BuiltinEvents & E;
type TypeOf<E extends EventMap> = Extract<keyof Full<E>, string>;

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

const MAX_TYPE_LENGTH = 200;
/** The epoch ms of performance.now()'s zero: a constant of the process. */
const TIME_ORIGIN = performance.timeOrigin;
const MAX_KEY_LENGTH = 1024;

const silent: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => silent };

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/**
 * A bounded, typed event queue with a background processor: `emit` queues
 * `{ id, type, data, timestamp, source }`; every handler of an event runs at
 * once; a handler that throws, rejects or runs past its timeout is logged,
 * counted and turned into an `error` event, and never stops the processor.
 * Events with the same key are handled in emission order; a full queue
 * follows the overflow policy; with a journal, no accepted event is lost in
 * a crash. Usually made by the `events()` capability; usable on its own.
 *
 * @example
 * const bus = new EventBus<{ reading: { value: number } }>({ capacity: 1000 });
 * bus.on('reading', async (e) => store(e.data.value));
 * await bus.start();
 * await bus.emit('reading', { value: 3 });
 */
export class EventBus<E extends EventMap = EventMap> {
  private readonly emitter = new EventEmitter();
  private readonly queue = new EventQueue();
  private readonly capacity: number;
  private readonly concurrency: number;
  private readonly overflow: OverflowPolicy;
  private readonly maxWaiting: number;
  private readonly handlerTimeoutMs: number;
  private readonly clock: Clock;
  private readonly deadlines = new Map<number, DeadlineQueue>();
  private readonly waiters: Waiter[] = [];
  private readonly roomListeners: Array<() => void> = [];
  private readonly idleListeners: Array<() => void> = [];
  /** The abort state every run of this bus shares (shutdown aborts the runs with a signal). */
  private readonly runShared = new RunShared();
  private readonly counters: EventCounters;
  private journalRef: EventJournal | undefined;
  private source: string;
  private log: Logger;
  private inFlight = 0;
  private reserved = 0;
  private seq = 0;
  /** Ids are this random prefix and a counter: unique without a random draw per event. */
  private readonly idPrefix = `${randomUUID()}-`;
  private failedRuns = 0;
  private phase: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private pumping = false;
  // The clock readings below are numbers always (-1: none), never undefined: a field that switches
  // between a number and undefined boxes a new number on every write.
  /** The start time of the runs being dispatched now (see pump). */
  private dispatchNow = 0;
  /** The system clock read once per tick for event timestamps (they are to the millisecond). */
  private tickNow = -1;
  /** performance.now() read once per tick for the runs dispatched in it (a burst shares one reading). */
  private tickPerf = -1;
  private readonly endTick = (): void => {
    this.tickNow = -1;
    this.tickPerf = -1;
  };
  private starting: Promise<void> | undefined;
  private stopping: Promise<StopReport> | undefined;

  constructor(options: EventBusOptions = {}) {
    const problems: Array<{ path: string; message: string }> = [];
    const positiveInt = (name: string, v: number | undefined) => {
      if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) problems.push({ path: `/${name}`, message: `must be a whole number above 0 (got ${String(v)})` });
    };
    positiveInt('capacity', options.capacity);
    positiveInt('concurrency', options.concurrency);
    positiveInt('maxWaitingEmitters', options.maxWaitingEmitters);
    if (options.handlerTimeoutMs !== undefined && !(options.handlerTimeoutMs > 0)) {
      problems.push({ path: '/handlerTimeoutMs', message: `must be above 0 ms, or Infinity (got ${String(options.handlerTimeoutMs)})` });
    }
    if (options.overflow !== undefined && !['wait', 'reject', 'dropOldest'].includes(options.overflow)) {
      problems.push({ path: '/overflow', message: `must be wait, reject or dropOldest (got ${String(options.overflow)})` });
    }
    if (problems.length) throw new ValidationError('event bus options', problems);
    this.capacity = options.capacity ?? 1024;
    this.concurrency = options.concurrency ?? 16;
    this.overflow = options.overflow ?? 'wait';
    this.maxWaiting = options.maxWaitingEmitters ?? this.capacity;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    this.source = options.source ?? 'local';
    this.log = options.logger ?? silent;
    if (options.journal) this.journalRef = new EventJournal(options.journal, this.clock);
    this.counters = {
      depth: () => this.queue.waiting,
      inFlight: () => this.inFlight,
      accepted: 0,
      handled: 0,
      rejected: 0,
      dropped: new Map(),
      handlers: new Map(),
    };
  }

  /** Whether accepted events are journaled (durable mode). */
  get durable(): boolean {
    return this.journalRef !== undefined;
  }

  /** Events waiting for their turn. */
  get depth(): number {
    return this.queue.waiting;
  }

  /** Counters since the bus was made. */
  stats(): EventStats {
    let dropped = 0;
    for (const n of this.counters.dropped.values()) dropped += n;
    return {
      depth: this.queue.waiting,
      inFlight: this.inFlight,
      accepted: this.counters.accepted,
      handled: this.counters.handled,
      failed: this.failedRuns,
      dropped,
      rejected: this.counters.rejected,
    };
  }

  /**
   * Adds a handler for one event type; returns a function that removes it.
   * The handler must be an async function: a sync one is refused here with
   * INVALID_INPUT (its errors could not be isolated from the processor).
   *
   * @example
   * const off = bus.on('peer_joined', async (e, { signal }) => refresh(e.data.peer_id, signal), { timeoutMs: 5000 });
   */
  on<K extends TypeOf<E>>(type: K, handler: EventHandler<K, Full<E>[K]>, options: HandlerOptions = {}): () => void {
    const reg = this.registration(type, handler as EventHandler<string, unknown>, options, false);
    this.emitter.on(type, reg.listener);
    return () => this.unregister(type, reg);
  }

  /** Like `on`, for the next event of the type only; returns a function that removes it before then. */
  once<K extends TypeOf<E>>(type: K, handler: EventHandler<K, Full<E>[K]>, options: HandlerOptions = {}): () => void {
    const reg = this.registration(type, handler as EventHandler<string, unknown>, options, true);
    this.emitter.once(type, reg.listener);
    return () => this.unregister(type, reg);
  }

  /** Removes every registration of `handler` for `type`; returns whether there was one. */
  off<K extends TypeOf<E>>(type: K, handler: EventHandler<K, Full<E>[K]>): boolean {
    const regs = this.byHandler.get(handler as EventHandler<string, unknown>)?.filter((r) => r.type === type) ?? [];
    for (const r of regs) this.unregister(type, r.reg);
    return regs.length > 0;
  }

  private unregister(type: string, reg: Registration): void {
    this.emitter.off(type, reg.listener);
    const list = this.byHandler.get(reg.fn);
    if (!list) return;
    const rest = list.filter((r) => r.reg !== reg);
    if (rest.length) this.byHandler.set(reg.fn, rest);
    else this.byHandler.delete(reg.fn);
  }

  /** How many handlers an event type has. */
  listenerCount(type: TypeOf<E>): number {
    return this.emitter.listenerCount(type);
  }

  /**
   * Queues an event; resolves to it once it is accepted (in durable mode:
   * written to the journal). A full queue follows the overflow policy.
   * Rejects, queuing nothing, with INVALID_INPUT for a bad type or key,
   * QUEUE_FULL, SHUTTING_DOWN once the bus stops, and (durable mode)
   * NOT_SERIALIZABLE or STATE_WRITE_FAILED from the journal.
   *
   * @example
   * await bus.emit('peer_seen', { peer: id }, { key: id });
   */
  emit<K extends TypeOf<E>>(type: K, data: Full<E>[K], options?: EmitOptions): Promise<AgentEvent<K, Full<E>[K]>> {
    // The common case (memory mode, room, running) without an async function's cost.
    if (this.journalRef === undefined && this.phase === 'running' && !this.isFull() && typeof type === 'string' && type.length > 0 && type.length <= MAX_TYPE_LENGTH) {
      const key = options?.key;
      if (key === undefined || (typeof key === 'string' && key.length <= MAX_KEY_LENGTH)) {
        const entry = this.entryOf(type, data, key, this.source);
        if (key === undefined && this.queue.waiting === 0 && this.inFlight < this.concurrency && !this.pumping) {
          // Nothing waits ahead of it and there is room: handled now, without a turn through the queue.
          // Marked as pumping, so that a handler emitting as it starts queues its event instead of nesting a dispatch.
          this.counters.accepted++;
          this.inFlight++;
          this.dispatchNow = this.perfNow();
          this.pumping = true;
          try {
            this.dispatch(entry);
          } finally {
            this.pumping = false;
          }
          if (this.queue.waiting > 0) this.pump();
        } else this.accept(entry);
        return Promise.resolve(entry.event as AgentEvent<K, Full<E>[K]>);
      }
    }
    return this.emitSlowly(type, data, options ?? {});
  }

  private async emitSlowly<K extends TypeOf<E>>(type: K, data: Full<E>[K], options: EmitOptions): Promise<AgentEvent<K, Full<E>[K]>> {
    this.checkEmit(type, options.key);
    if (this.phase === 'new') throw new SovError('LIFECYCLE', `Cannot emit "${type}" before the event bus starts (agent.start())`);
    // Events from before a restart are queued first, and their journal keys are not reused.
    if (this.phase === 'starting') await this.starting;
    while (this.isFull()) {
      if (this.overflow === 'reject') {
        this.counters.rejected++;
        throw new QueueFullError(type, this.capacity);
      }
      if (this.overflow === 'dropOldest') {
        this.dropOldest();
        break;
      }
      if (this.waiters.length >= this.maxWaiting) {
        this.counters.rejected++;
        throw new QueueFullError(type, this.capacity, `${this.waiters.length} emitters already wait for room (maxWaitingEmitters)`);
      }
      await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
      // A woken emitter holds a reserved slot.
      this.reserved--;
      this.checkOpen(type);
    }
    const entry = this.entryOf(type, data, options.key, this.source);
    const journal = this.journalRef;
    if (!journal) {
      this.accept(entry);
      return entry.event as AgentEvent<K, Full<E>[K]>;
    }
    entry.committed = false;
    this.queue.add(entry);
    try {
      await journal.append(entry.journalKey!, entry.event);
    } catch (e) {
      this.queue.cancel(entry);
      this.wake();
      this.pump();
      throw e;
    }
    this.committed(entry);
    return entry.event as AgentEvent<K, Full<E>[K]>;
  }

  /**
   * Queues an event without waiting, for callers that cannot wait (a request
   * path, a sync callback): returns false, counting a drop (`full`), when
   * the queue is full and the policy is not dropOldest, or the bus is not
   * running. In durable mode the journal write happens in the background.
   */
  post<K extends TypeOf<E>>(type: K, data: Full<E>[K], options: EmitOptions = {}): boolean {
    this.checkShape(type, options.key);
    if (this.phase !== 'running') {
      this.countDrop('not_running');
      return false;
    }
    if (this.isFull()) {
      if (this.overflow !== 'dropOldest') {
        this.countDrop('full');
        return false;
      }
      this.dropOldest();
    }
    const entry = this.entryOf(type, data, options.key, this.source);
    this.acceptInBackground(entry, undefined);
    return true;
  }

  /** Resolves once nothing waits and nothing is being handled. */
  idle(): Promise<void> {
    if (this.queue.waiting === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }

  /**
   * Starts the processor; in durable mode first queues again every event a
   * previous run accepted and did not finish (marked `redelivered`). Safe to
   * call twice.
   */
  start(): Promise<void> {
    if (this.phase === 'running') return Promise.resolve();
    if (this.phase === 'stopping' || this.phase === 'stopped') return Promise.reject(new SovError('LIFECYCLE', 'An event bus that stopped cannot start again; make a new one'));
    this.starting ??= this.doStart();
    return this.starting;
  }

  /**
   * Stops: refuses new events (SHUTTING_DOWN), lets what is queued be handled
   * for up to `budgetMs`, then aborts the handlers still running. In durable
   * mode what is left stays in the journal for the next start; in memory
   * mode it is dropped and counted (`shutdown`). Safe to call twice.
   */
  stop(budgetMs = 10_000): Promise<StopReport> {
    this.stopping ??= this.doStop(budgetMs);
    return this.stopping;
  }

  /** Registers the bus's metrics (queue depth, handled, failed, dropped, handler durations) in a prom-client registry. */
  registerMetrics(registry: Registry, prefix?: string): void {
    registerEventMetrics(registry, this.counters, prefix);
  }

  /** Sets the `source` of events emitted from now on (the agent id, once known). */
  setSource(source: string): void {
    this.source = source;
  }

  /** Sets the logger (the agent's, at initialize). */
  setLogger(logger: Logger): void {
    this.log = logger;
  }

  /** Sets the journal before start (the capability opens it at initialize). */
  setJournal(store: StateStore): void {
    if (this.phase !== 'new') throw new SovError('LIFECYCLE', 'The journal of an event bus is set before it starts');
    this.journalRef = new EventJournal(store, this.clock);
  }

  /** @internal the journal, for registry subscriptions */
  get journal(): EventJournal | undefined {
    return this.journalRef;
  }

  /** @internal the logger, for registry subscriptions */
  get logger(): Logger {
    return this.log;
  }

  /**
   * @internal Takes an event from outside (a registry stream): `accepted`,
   * `full` (a wait-policy queue with no room: the caller pauses its source
   * and comes back with `whenRoom`) or `dropped` (the reject policy, or not
   * running). In durable mode the event and the cursor are written together.
   */
  offerExternal(event: AgentEvent, cursor?: { name: string; position: string }): 'accepted' | 'full' | 'dropped' {
    if (this.phase !== 'running') return 'dropped';
    if (this.isFull()) {
      if (this.overflow === 'wait') return 'full';
      if (this.overflow === 'reject') {
        this.countDrop('full');
        return 'dropped';
      }
      this.dropOldest();
    }
    const entry = this.entryOf(event.type, event.data, event.key, event.source, event);
    this.acceptInBackground(entry, cursor);
    return 'accepted';
  }

  /** @internal Resolves once the queue is at most half full (a paused source may resume). */
  whenRoom(): Promise<void> {
    if (this.queue.waiting + this.reserved <= this.capacity / 2) return Promise.resolve();
    return new Promise((resolve) => this.roomListeners.push(resolve));
  }

  /** @internal whether the bus takes events */
  get isRunning(): boolean {
    return this.phase === 'running';
  }

  private readonly byHandler = new Map<EventHandler<string, unknown>, Array<{ type: string; reg: Registration }>>();

  private registration(type: string, fn: EventHandler<string, unknown>, options: HandlerOptions, once: boolean): Registration {
    if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
      throw new ValidationError('event handler', [{ path: '/type', message: `must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters` }]);
    }
    if (!isAsyncFunction(fn)) {
      const what = typeof fn === 'function' ? `"${fn.name || 'anonymous'}" is not an async function` : `got ${typeof fn}, not a function`;
      throw new SovError('INVALID_INPUT', `Handler for "${type}" must be async (declare it \`async\`): ${what}`);
    }
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new ValidationError('event handler', [{ path: '/timeoutMs', message: `must be above 0 ms, or Infinity (got ${String(options.timeoutMs)})` }]);
    }
    const name = options.name ?? (fn.name || 'anonymous');
    const statsKey = `${type}\u0000${name}`;
    let stats = this.counters.handlers.get(statsKey);
    if (!stats) {
      stats = new HandlerStats(type, name);
      this.counters.handlers.set(statsKey, stats);
    }
    const reg: Registration = {
      fn,
      name,
      timeoutMs: options.timeoutMs ?? this.handlerTimeoutMs,
      stats,
      deadlines: undefined,
      cohort: undefined,
      // A once handler leaves the index when it fires (the emitter has dropped it already).
      listener: once
        ? (entry) => {
            this.unregister(type, reg);
            this.run(reg, entry);
          }
        : (entry) => this.run(reg, entry),
    };
    const list = this.byHandler.get(fn) ?? [];
    list.push({ type, reg });
    this.byHandler.set(fn, list);
    return reg;
  }

  private checkEmit(type: string, key: string | undefined): void {
    this.checkShape(type, key);
    this.checkOpen(type);
  }

  private checkShape(type: string, key: string | undefined): void {
    if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
      throw new ValidationError('event', [{ path: '/type', message: `must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters (got ${typeof type === 'string' ? `${type.length} characters` : typeof type})` }]);
    }
    if (key !== undefined && (typeof key !== 'string' || key.length > MAX_KEY_LENGTH)) {
      throw new ValidationError('event', [{ path: '/key', message: `must be a string of at most ${MAX_KEY_LENGTH} characters` }]);
    }
  }

  private checkOpen(type: string): void {
    if (this.phase === 'stopping' || this.phase === 'stopped') {
      throw new SovError('SHUTTING_DOWN', `Event "${type}" refused: the event bus is shutting down`);
    }
  }

  private isFull(): boolean {
    return this.queue.waiting + this.reserved >= this.capacity;
  }

  private entryOf(type: string, data: unknown, key: string | undefined, source: string, given?: AgentEvent): HandlerRun {
    const seq = ++this.seq;
    const event: AgentEvent = given ?? new EventEnvelope(this.idPrefix, seq, type, data, this.emittedAt(), source, key);
    return new HandlerRun(event, key, this.journalRef ? this.journalRef.keyOf(seq) : undefined, false, this.runShared);
  }

  /** performance.now(), read once per tick: runs dispatched in one burst share their start reading. */
  private perfNow(): number {
    if (this.tickPerf < 0) {
      this.tickPerf = performance.now();
      if (this.tickNow < 0) queueMicrotask(this.endTick);
    }
    return this.tickPerf;
  }

  /** Emission time: on the system clock, one reading serves every event emitted in the same tick (a burst). */
  private emittedAt(): number {
    if (this.clock !== systemClock) return this.clock.now();
    if (this.tickNow < 0) {
      this.tickNow = Date.now();
      if (this.tickPerf < 0) queueMicrotask(this.endTick);
    }
    return this.tickNow;
  }

  private accept(entry: HandlerRun): void {
    this.counters.accepted++;
    this.queue.add(entry);
    this.pump();
  }

  private committed(entry: HandlerRun): void {
    this.counters.accepted++;
    entry.committed = true;
    this.pump();
  }

  private acceptInBackground(entry: HandlerRun, cursor: { name: string; position: string } | undefined): void {
    const journal = this.journalRef;
    if (!journal) return this.accept(entry);
    entry.committed = false;
    this.queue.add(entry);
    const write = cursor
      ? journal.appendWithCursor(entry.journalKey!, entry.event, cursor.name, cursor.position)
      : journal.append(entry.journalKey!, entry.event);
    write.then(
      () => this.committed(entry),
      (e: unknown) => {
        this.log.error('event not journaled; dropped', { eventId: entry.event.id, eventType: entry.event.type, error: toSovError(e).message });
        this.countDrop('journal');
        this.queue.cancel(entry);
        this.wake();
        this.pump();
      },
    );
  }

  private dropOldest(): void {
    const victim = this.queue.dropOldest();
    if (!victim) return;
    this.countDrop('overflow');
    this.log.debug('event dropped: queue full (dropOldest)', { eventId: victim.event.id, eventType: victim.event.type });
    if (victim.journalKey) this.forget(victim.journalKey);
  }

  private countDrop(reason: string): void {
    this.counters.dropped.set(reason, (this.counters.dropped.get(reason) ?? 0) + 1);
  }

  /** Takes events whose turn has come while there is room to handle them. */
  /**
   * Takes events whose turn has come while there is room. `now` is a
   * performance.now() reading the caller just made (a run that settled):
   * the runs started here take it as their start, one clock read fewer.
   */
  private pump(now?: number): void {
    if (this.pumping || this.phase === 'new' || this.phase === 'stopped') return;
    this.pumping = true;
    try {
      while (this.inFlight < this.concurrency) {
        const entry = this.queue.take() as HandlerRun | undefined;
        if (!entry) break;
        this.inFlight++;
        this.dispatchNow = now ??= this.perfNow();
        this.dispatch(entry);
      }
    } finally {
      this.pumping = false;
    }
    this.wake();
  }

  /** Hands freed room to waiting emitters (one slot each, reserved) and to paused sources. */
  private wake(): void {
    while (this.waiters.length && !this.isFull()) {
      this.reserved++;
      this.waiters.shift()!.resolve();
    }
    if (this.roomListeners.length && this.queue.waiting + this.reserved <= this.capacity / 2) {
      for (const l of this.roomListeners.splice(0)) l();
    }
    if (this.idleListeners.length && this.queue.waiting === 0 && this.inFlight === 0) {
      for (const l of this.idleListeners.splice(0)) l();
    }
  }

  private dispatch(entry: HandlerRun): void {
    const type = entry.event.type;
    // The count is held up while listeners start, so that one settling at once does not finish the event early.
    entry.pending = 1;
    if (!this.emitter.emit(type, entry)) this.log.debug('no handler for event', { eventId: entry.event.id, eventType: type });
    if (--entry.pending === 0) this.finish(entry);
  }

  private run(reg: Registration, entry: HandlerRun): void {
    entry.pending++;
    // The first handler runs on the delivery itself; each further one gets a run of its own.
    const run = entry.reg === undefined ? entry : new HandlerRun(entry.event, entry.key, undefined, entry.redelivered, this.runShared, entry);
    run.reg = reg;
    const started = (run.started = this.dispatchNow);
    let p: Promise<unknown>;
    try {
      p = reg.fn(entry.event, run);
    } catch (e) {
      p = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    if (reg.timeoutMs !== Infinity) {
      // On the system clock, the run's start reading gives the time: one clock read fewer per run.
      const deadline = (this.clock === systemClock ? TIME_ORIGIN + started : this.clock.now()) + reg.timeoutMs;
      let cohort = reg.cohort;
      if (cohort === undefined || cohort.done || cohort.deadline !== deadline) {
        cohort = reg.cohort = new DeadlineCohort(deadline, this.onExpire);
        (reg.deadlines ??= this.deadlineQueue(reg.timeoutMs)).add(cohort);
      }
      cohort.link(run);
    }
    p.then(
      () => this.settle(run, undefined, false),
      (e: unknown) => this.settle(run, e === undefined ? new Error('rejected with undefined') : e, false),
    );
  }

  private deadlineQueue(ms: number): DeadlineQueue {
    let q = this.deadlines.get(ms);
    if (!q) {
      q = new DeadlineQueue(this.clock);
      this.deadlines.set(ms, q);
    }
    return q;
  }

  /** Called by a cohort's deadline for each of its runs not settled. */
  private readonly onExpire = (run: HandlerRun): void => this.timedOut(run);

  private timedOut(run: HandlerRun): void {
    const reg = run.reg!;
    const error = new TimeoutError(`Handler "${reg.name}" for event "${run.event.type}"`, reg.timeoutMs);
    run.abort(error);
    this.settle(run, error, true);
  }

  private settle(run: HandlerRun, error: unknown, timedOut: boolean): void {
    if (run.settled) return;
    run.settled = true;
    run.release();
    const reg = run.reg!;
    // The cohort's last run takes it out of the deadline queue.
    if (run.cohort?.unlink(run) === true) reg.deadlines!.finish(run.cohort);
    const stats = reg.stats;
    const end = performance.now();
    stats.observe((end - run.started) / 1000);
    if (error === undefined) stats.ok++;
    else {
      this.failedRuns++;
      if (timedOut) stats.timedOut++;
      else stats.failed++;
      this.handlerFailed(run, error, timedOut);
    }
    const entry = run.delivery;
    if (--entry.pending === 0) this.finish(entry, end);
  }

  private handlerFailed(run: HandlerRun, error: unknown, timedOut: boolean): void {
    const err = toSovError(error);
    const event = run.event;
    const name = run.reg!.name;
    const meta = { eventId: event.id, eventType: event.type, handler: name, code: err.code, error: err.message };
    if (event.type === 'error') {
      // An error handler's own failure is logged, never re-emitted: no loop.
      this.log.error('error handler failed', meta);
      return;
    }
    this.log.error(timedOut ? 'event handler timed out' : 'event handler failed', meta);
    if (this.emitter.listenerCount('error') === 0) return;
    const data: HandlerErrorData = { eventId: event.id, eventType: event.type, handler: name, error: { code: err.code, message: err.message }, timedOut };
    this.post('error', data as Full<E>[TypeOf<E>]);
  }

  private finish(entry: HandlerRun, now?: number): void {
    if (this.phase === 'stopped') return;
    this.inFlight--;
    this.counters.handled++;
    this.queue.release(entry);
    if (entry.journalKey) this.forget(entry.journalKey);
    if (this.queue.waiting > 0) this.pump(now);
    else this.wake();
  }

  /** Removes a journal record, with the next write or soon after; stop() flushes the removals. */
  private forget(journalKey: string): void {
    this.journalRef?.remove(journalKey);
  }

  private async doStart(): Promise<void> {
    this.phase = 'starting';
    try {
      const journal = this.journalRef;
      if (journal) {
        const left = await journal.pending();
        for (const { seq, event } of left) {
          this.seq = Math.max(this.seq, seq);
          const entry = new HandlerRun(Object.freeze({ ...event }), event.key, journal.keyOf(seq), true, this.runShared);
          this.counters.accepted++;
          // Accepted before the crash: queued whatever the capacity, never dropped.
          this.queue.add(entry);
        }
        if (left.length) this.log.info('events from before the restart queued again', { events: left.length });
      }
      this.phase = 'running';
      this.pump();
    } catch (e) {
      this.phase = 'new';
      this.starting = undefined;
      throw e;
    }
  }

  private async doStop(budgetMs: number): Promise<StopReport> {
    if (this.starting) await this.starting.catch(() => undefined);
    const handledBefore = this.counters.handled;
    const wasRunning = this.phase === 'running';
    this.phase = 'stopping';
    for (const w of this.waiters.splice(0)) w.reject(new SovError('SHUTTING_DOWN', 'The event bus is shutting down'));
    for (const l of this.roomListeners.splice(0)) l();
    if (wasRunning) {
      let timer: unknown;
      const drained = await Promise.race([
        this.idle().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = this.clock.setTimeout(() => resolve(false), Math.max(0, budgetMs));
        }),
      ]);
      this.clock.clearTimeout(timer);
      if (!drained) {
        const reason = new SovError('SHUTTING_DOWN', 'The event bus is shutting down: handler aborted');
        // Runs that made no signal yet see the reason when they make one.
        this.runShared.abortReason = reason;
        for (const run of this.runShared.withSignal) run.abort(reason);
      }
    }
    const remaining = this.queue.waiting + this.inFlight;
    this.phase = 'stopped';
    for (const q of this.deadlines.values()) q.stop();
    const kept = this.journalRef !== undefined;
    if (remaining > 0) {
      if (kept) this.log.info('event bus stopped; unhandled events kept in the journal', { remaining });
      else {
        for (let i = 0; i < remaining; i++) this.countDrop('shutdown');
        this.log.warn('event bus stopped; unhandled events dropped', { remaining });
      }
    }
    await this.journalRef?.flush().catch((e: unknown) =>
      this.log.warn('handled events not removed from the journal; they will be handled again after a restart', { error: toSovError(e).message }),
    );
    for (const l of this.idleListeners.splice(0)) l();
    return { drained: this.counters.handled - handledBefore, remaining, kept };
  }
}
