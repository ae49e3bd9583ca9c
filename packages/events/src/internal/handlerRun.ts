import type { DeadlineEntry, DeadlineQueue } from '@sov/core/internal';
import type { AgentEvent, EventHandler, HandlerContext } from '../types';
import type { HandlerStats } from './eventMetrics';
import type { QueuedEvent } from './eventQueue';

/** One handler as registered. */
export interface Registration {
  readonly fn: EventHandler<string, unknown>;
  readonly name: string;
  readonly timeoutMs: number;
  readonly stats: HandlerStats;
  readonly listener: (delivery: HandlerRun) => void;
  /** The deadline queue of its budget, made on first run (undefined without a timeout). */
  deadlines: DeadlineQueue | undefined;
  /** The cohort its latest runs joined (see DeadlineCohort). */
  cohort: DeadlineCohort | undefined;
}

/** What every run of one bus shares: the shutdown's abort, and the runs whose signal exists (the ones an abort must reach). */
export class RunShared {
  /** Set when shutdown runs out of time: every run not settled is aborted with it. */
  abortReason: unknown = undefined;
  readonly withSignal = new Set<HandlerRun>();
}

/**
 * One event's delivery and one handler's run on it, in one object. The
 * event's first handler runs on the delivery itself (an event with one
 * handler, the usual case, costs one object from emit to settle); each
 * further handler gets a run of its own that points at the delivery, which
 * counts the runs not settled. It is the queue's entry (QueuedEvent) and the
 * handler's context: its AbortSignal is made only when read, and only runs
 * with a signal are tracked for shutdown (the others see the shutdown's
 * reason if they read it later).
 */
export class HandlerRun implements QueuedEvent, HandlerContext {
  // Fields are declared and assigned once, in the constructor, in one order: one shape for every run.
  declare readonly event: AgentEvent;
  declare readonly key: string | undefined;
  declare committed: boolean;
  declare cancelled: boolean;
  declare journalKey: string | undefined;
  declare redelivered: boolean;
  declare next: QueuedEvent | undefined;
  /** Runs of the delivery not settled yet (on the delivery only). */
  declare pending: number;
  /** The delivery this run belongs to (itself for the first handler). */
  declare readonly delivery: HandlerRun;
  declare reg: Registration | undefined;
  /** performance.now() when the handler started. */
  declare started: number;
  /** The deadline it shares with the runs started with it (undefined without a timeout). */
  declare cohort: DeadlineCohort | undefined;
  /** Its neighbours among the cohort's runs not settled. */
  declare cohortPrev: HandlerRun | undefined;
  declare cohortNext: HandlerRun | undefined;
  declare settled: boolean;
  declare private readonly shared: RunShared;
  declare private controller: AbortController | undefined;
  declare private abortReason: unknown;

  constructor(event: AgentEvent, key: string | undefined, journalKey: string | undefined, redelivered: boolean, shared: RunShared, delivery?: HandlerRun) {
    this.event = event;
    this.key = key;
    this.committed = true;
    this.cancelled = false;
    this.journalKey = journalKey;
    this.redelivered = redelivered;
    this.next = undefined;
    this.pending = 0;
    this.delivery = delivery ?? this;
    this.reg = undefined;
    this.started = 0;
    this.cohort = undefined;
    this.cohortPrev = undefined;
    this.cohortNext = undefined;
    this.settled = false;
    this.shared = shared;
    this.controller = undefined;
    this.abortReason = undefined;
  }

  /** Made on first use: most handlers never read it, and a controller costs more than a small handler. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = (this.controller = new AbortController());
      const reason = this.abortReason ?? (this.settled ? undefined : this.shared.abortReason);
      if (reason !== undefined) controller.abort(reason);
      else if (!this.settled) this.shared.withSignal.add(this);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Called once it settled: a signal made for it is no longer tracked. */
  release(): void {
    if (this.controller !== undefined) this.shared.withSignal.delete(this);
  }
}

/**
 * The runs of one handler that started with one clock reading: they share a
 * deadline, so one entry in the handler's DeadlineQueue covers them all (a
 * burst of a thousand events adds one entry, not a thousand). Its runs not
 * settled are linked through it; it leaves the queue once the last one
 * settled; when its deadline passes first, every one of them times out.
 */
export class DeadlineCohort implements DeadlineEntry {
  done = false;
  next: DeadlineEntry | undefined = undefined;
  private head: HandlerRun | undefined = undefined;

  constructor(
    readonly deadline: number,
    private readonly onExpire: (run: HandlerRun) => void,
  ) {}

  link(run: HandlerRun): void {
    run.cohort = this;
    run.cohortNext = this.head;
    if (this.head !== undefined) this.head.cohortPrev = run;
    this.head = run;
  }

  /** Unlinks a run that settled; returns true when it was the last one. */
  unlink(run: HandlerRun): boolean {
    const { cohortPrev: prev, cohortNext: next } = run;
    if (prev !== undefined) prev.cohortNext = next;
    else this.head = next;
    if (next !== undefined) next.cohortPrev = prev;
    run.cohortPrev = run.cohortNext = undefined;
    return this.head === undefined && !this.done;
  }

  expire(): void {
    // Each timed-out run settles, which unlinks it: take the next one first.
    for (let run = this.head; run !== undefined; ) {
      const next = run.cohortNext;
      this.onExpire(run);
      run = next;
    }
  }
}
