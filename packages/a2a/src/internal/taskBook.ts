import { randomUUID } from 'node:crypto';
import { SovError, type Clock } from '@sov/core';
import { TERMINAL_TASK_STATES, type A2aArtifact, type A2aMessage, type A2aStreamEvent, type A2aTask, type A2aTaskState } from '../a2aWire';

/** What a progress report says; sent to streaming clients and kept in the task's status. */
export interface A2aProgress {
  /** A line for people ("indexed 3 of 10 files"). */
  message?: string;
  /** Share done, 0 to 100. */
  percent?: number;
  /** Anything else, as JSON. */
  data?: unknown;
}

/** One task this agent runs, with who may read it and who listens to it. */
export class TaskEntry {
  readonly task: A2aTask;
  readonly controller = new AbortController();
  private readonly listeners = new Set<(event: A2aStreamEvent) => void>();
  private readonly settledWaiters: Array<() => void> = [];
  finishedAt: number | undefined;

  constructor(
    readonly owner: string | undefined,
    readonly service: string,
    contextId: string,
    userMessage: A2aMessage,
    private readonly clock: Clock,
  ) {
    this.task = {
      id: randomUUID(),
      contextId,
      status: { state: 'TASK_STATE_SUBMITTED', timestamp: new Date(clock.now()).toISOString() },
      history: [{ ...userMessage, contextId }],
      metadata: { skill: service },
    };
  }

  get terminal(): boolean {
    return TERMINAL_TASK_STATES.has(this.task.status.state);
  }

  /** Listens to this task's events; returns the function that stops listening. */
  listen(listener: (event: A2aStreamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the task is in a terminal state. */
  settled(): Promise<void> {
    if (this.terminal) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** Moves the task to `state` (nothing once terminal) and tells every listener. */
  setState(state: A2aTaskState, message?: A2aMessage): boolean {
    if (this.terminal) return false;
    this.task.status = {
      state,
      ...(message ? { message } : {}),
      timestamp: new Date(this.clock.now()).toISOString(),
    };
    const final = this.terminal;
    this.emit({ statusUpdate: { taskId: this.task.id, contextId: this.task.contextId, status: this.task.status } });
    if (final) {
      this.finishedAt = this.clock.now();
      for (const w of this.settledWaiters.splice(0)) w();
      this.listeners.clear();
    }
    return true;
  }

  addArtifact(artifact: A2aArtifact): void {
    if (this.terminal) return;
    (this.task.artifacts ??= []).push(artifact);
    this.emit({ artifactUpdate: { taskId: this.task.id, contextId: this.task.contextId, artifact, lastChunk: true } });
  }

  private emit(event: A2aStreamEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/**
 * The tasks of one agent, bounded: at most `maxTasks` at once; a finished
 * task is readable for `retentionMs`, then forgotten. When full, the oldest
 * finished task makes room; when every task is still running, a new one is
 * refused (TOO_MANY_IN_FLIGHT).
 */
export class TaskBook {
  private readonly tasks = new Map<string, TaskEntry>();

  constructor(
    private readonly maxTasks: number,
    private readonly retentionMs: number,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.tasks.size;
  }

  /** Tasks not yet finished. */
  get running(): number {
    let n = 0;
    for (const t of this.tasks.values()) if (!t.terminal) n++;
    return n;
  }

  create(owner: string | undefined, service: string, contextId: string, message: A2aMessage): TaskEntry {
    this.sweep();
    if (this.tasks.size >= this.maxTasks) {
      for (const [id, t] of this.tasks) {
        if (t.terminal) {
          this.tasks.delete(id);
          break;
        }
      }
      if (this.tasks.size >= this.maxTasks) {
        throw new SovError('TOO_MANY_IN_FLIGHT', `This agent runs ${this.maxTasks} tasks already; try again when one has finished`);
      }
    }
    const entry = new TaskEntry(owner, service, contextId, message, this.clock);
    this.tasks.set(entry.task.id, entry);
    return entry;
  }

  /** The task, if it exists and `caller` may see it: a task made by a signed caller is that caller's only. */
  get(id: string, caller: string | undefined): TaskEntry | undefined {
    const entry = this.tasks.get(id);
    if (!entry) return undefined;
    if (entry.finishedAt !== undefined && this.clock.now() - entry.finishedAt > this.retentionMs) {
      this.tasks.delete(id);
      return undefined;
    }
    if (entry.owner !== undefined && entry.owner !== caller) return undefined;
    return entry;
  }

  /** Aborts every running task (shutdown). */
  abortAll(reason: unknown): void {
    for (const t of this.tasks.values()) if (!t.terminal) t.controller.abort(reason);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [id, t] of this.tasks) {
      if (t.finishedAt !== undefined && now - t.finishedAt > this.retentionMs) this.tasks.delete(id);
    }
  }
}
