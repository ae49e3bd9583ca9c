import { randomUUID } from 'node:crypto';
import { TimeoutError, type Logger, type VerifiedCaller } from '@sov/core';
import type { DeadlineEntry } from '@sov/core/internal';
import type { ServiceContext } from '../serviceDefinition';

/** What the router is told about the request it serves (core's RequestContext fits). */
export interface OuterContext {
  requestId?: string;
  caller?: VerifiedCaller | undefined;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * One call being served: the handler's context and the call's entry in its
 * service's deadline queue. Its AbortController is made only when the
 * handler reads `signal`, so a handler that never looks costs nothing.
 */
export class ServiceCall implements ServiceContext, DeadlineEntry {
  deadline = 0;
  done = false;
  next: DeadlineEntry | undefined = undefined;
  /** Settles the call's outcome; set by the router when the call has a deadline. */
  resolve: (value: unknown) => void = noop;
  reject: (reason: unknown) => void = noop;
  private controller: AbortController | undefined;
  private unlink: (() => void) | undefined;
  private ownId: string | undefined;
  private timedOut: TimeoutError | undefined;

  constructor(
    readonly service: string,
    readonly timeoutMs: number,
    private readonly outer: OuterContext | undefined,
    private readonly fallbackLogger: Logger,
  ) {}

  get requestId(): string {
    return this.outer?.requestId ?? (this.ownId ??= randomUUID());
  }

  get caller(): VerifiedCaller | undefined {
    return this.outer?.caller;
  }

  get logger(): Logger {
    return this.outer?.logger ?? this.fallbackLogger;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.timedOut) controller.abort(this.timedOut);
      const outer = this.outer?.signal;
      if (outer) {
        if (outer.aborted) controller.abort(outer.reason);
        else if (!this.done) {
          const forward = () => controller.abort(outer.reason);
          outer.addEventListener('abort', forward, { once: true });
          this.unlink = () => outer.removeEventListener('abort', forward);
        }
      }
    }
    return this.controller.signal;
  }

  /** The deadline passed: abort the handler's signal and answer TIMEOUT. */
  expire(): void {
    const error = new TimeoutError(`Service "${this.service}"`, this.timeoutMs);
    this.timedOut = error;
    this.controller?.abort(error);
    this.reject(error);
    this.release();
  }

  /** Drops the link to the outer signal once the call is answered. */
  release(): void {
    if (this.unlink) {
      this.unlink();
      this.unlink = undefined;
    }
  }
}

function noop(): void {}
