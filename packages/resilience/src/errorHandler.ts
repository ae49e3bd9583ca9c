import { systemClock, toSovError, type Clock, type Logger } from '@sov/core';
import type { CircuitBreaker } from './circuitBreaker';
import type { Dispose } from './policy';
import { RetryPolicy, type RetryPolicyOptions } from './retryPolicy';

/** How bad an error is, and so what the ErrorHandler does about it. The guide's four levels. */
export const ErrorSeverity = {
  /** Log and go on. */
  LOW: 'low',
  /** Retry the operation with backoff. */
  MEDIUM: 'medium',
  /** Count; past a threshold, open the circuit. */
  HIGH: 'high',
  /** Alert, then shut the agent down gracefully. */
  CRITICAL: 'critical',
} as const;

/** One of the ErrorSeverity levels. */
export type ErrorSeverity = (typeof ErrorSeverity)[keyof typeof ErrorSeverity];

/** An error class a handler is registered for (`TypeError`, core's `NetworkError` ...). */
export type ErrorClass<E extends Error = Error> = abstract new (...args: never[]) => E;

/** What the caller knows about where the error happened; logged with it. */
export interface ErrorContext {
  /** The operation that failed. MEDIUM errors run it again with backoff; its result becomes the outcome's value. */
  retry?: () => unknown;
  /** Anything else worth logging (request id, peer, service ...). */
  [key: string]: unknown;
}

/** How the ErrorHandler treats one error class. */
export interface ErrorRegistration<E extends Error = Error> {
  severity: ErrorSeverity;
  /** Runs after the severity's strategy; what it returns becomes the outcome's value (unless a retry recovered). */
  handler?: (error: E, context: ErrorContext) => unknown;
  /** HIGH: errors of this class, since the last break, that open the circuit. @default 10 */
  breakAfter?: number;
  /** HIGH: the circuit to open. @default the ErrorHandler's `breaker` */
  breaker?: CircuitBreaker;
  /** HIGH: how long the circuit stays open, in ms. @default 30000 */
  breakForMs?: number;
}

/** Options of an ErrorHandler. */
export interface ErrorHandlerOptions {
  /** Where errors are logged. @default no logging */
  logger?: Logger;
  /** Clock for the circuit-break durations. @default the system clock */
  clock?: Clock;
  /** The backoff of MEDIUM retries. @default { maxAttempts: 3 } */
  retry?: Omit<RetryPolicyOptions, 'retryable'>;
  /** The circuit HIGH errors open when their registration names none. */
  breaker?: CircuitBreaker;
  /** Severity of errors with no registration. @default ErrorSeverity.MEDIUM */
  defaultSeverity?: ErrorSeverity;
  /** Alerts operators about a CRITICAL error (a page, a webhook ...). Failures of the hook are logged. */
  onCritical?: (error: Error, context: ErrorContext) => void | Promise<void>;
  /** Starts a graceful shutdown; the resilience capability passes the agent's. Called once. */
  shutdown?: (reason: string) => void | Promise<void>;
}

/** What `handle` did. */
export interface ErrorOutcome {
  severity: ErrorSeverity;
  /** `logged` (LOW, or MEDIUM with nothing to retry), `retried`, `counted` and `circuit-opened` (HIGH), `shutdown` (CRITICAL). */
  action: 'logged' | 'retried' | 'counted' | 'circuit-opened' | 'shutdown';
  /** Whether a retry succeeded. */
  recovered: boolean;
  /** The retry's result, or else the handler's. */
  value: unknown;
  /** The last error of a retry that did not recover. */
  retryError?: Error;
  /** Errors of this class handled so far. */
  count: number;
}

/** What `onCircuitBreak` reports. */
export interface CircuitBreakEvent {
  /** The error class's name. */
  errorClass: string;
  /** Errors of that class since the last break. */
  count: number;
  error: Error;
}

interface Entry {
  cls: ErrorClass;
  reg: ErrorRegistration<Error>;
  sinceBreak: number;
}

const noop = (): void => undefined;

/**
 * Centralised error handling by severity, the guide's Comprehensive Error
 * Strategy. Handlers are registered per error class (the nearest registered
 * ancestor wins); LOW logs and goes on, MEDIUM retries the failed operation
 * with backoff, HIGH counts and opens a circuit past a threshold, CRITICAL
 * calls the alert hook and starts a graceful shutdown.
 *
 * @example
 * const errors = new ErrorHandler({ logger, onCritical: (e) => pager.alert(e.message), shutdown: (r) => agent.shutdown(r) });
 * errors.registerHandler(NetworkError, { severity: ErrorSeverity.HIGH, breakAfter: 10, breaker });
 * errors.registerHandler(ValidationError, { severity: ErrorSeverity.LOW });
 * const outcome = await errors.handle(error, { retry: () => fetchQuote(id), quoteId: id });
 */
export class ErrorHandler {
  private readonly entries = new Map<ErrorClass, Entry>();
  private readonly counts = new Map<string, number>();
  private readonly breakListeners = new Set<(event: CircuitBreakEvent) => void>();
  private readonly options: ErrorHandlerOptions;
  private readonly retry: RetryPolicy;
  private shutdownStarted = false;

  constructor(options: ErrorHandlerOptions = {}) {
    this.options = options;
    // A retry goes on only while the operation keeps failing with MEDIUM errors.
    this.retry = new RetryPolicy({ ...options.retry, retryable: (e) => this.severityOf(e) === ErrorSeverity.MEDIUM });
  }

  /** Registers how errors of `errorClass` (and its subclasses without their own registration) are handled. Replaces an earlier one. */
  registerHandler<E extends Error>(errorClass: ErrorClass<E>, registration: ErrorRegistration<E>): void {
    if (!Object.values(ErrorSeverity).includes(registration.severity)) {
      throw new RangeError(`Unknown severity "${String(registration.severity)}" for ${errorClass.name}`);
    }
    this.entries.set(errorClass, { cls: errorClass, reg: registration as ErrorRegistration<Error>, sinceBreak: 0 });
  }

  /** The severity an error would be handled with. */
  severityOf(error: unknown): ErrorSeverity {
    return this.entryFor(error)?.reg.severity ?? this.options.defaultSeverity ?? ErrorSeverity.MEDIUM;
  }

  /** Errors handled so far, by class name. */
  errorCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Subscribes to circuits opened by HIGH errors; returns a function that unsubscribes. */
  onCircuitBreak(listener: (event: CircuitBreakEvent) => void): Dispose {
    this.breakListeners.add(listener);
    return () => this.breakListeners.delete(listener);
  }

  /** Handles an error by its severity, then runs its handler. Never throws. The guide's `handle_error`. */
  async handle(error: unknown, context: ErrorContext = {}): Promise<ErrorOutcome> {
    const err = error instanceof Error ? error : toSovError(error);
    const entry = this.entryFor(err);
    const severity = entry?.reg.severity ?? this.options.defaultSeverity ?? ErrorSeverity.MEDIUM;
    const className = entry?.cls.name ?? err.name;
    const count = (this.counts.get(className) ?? 0) + 1;
    this.counts.set(className, count);
    const { retry: operation, ...logged } = context;
    const meta = { errorType: className, severity, count, error: err.message, context: logged };

    const outcome: ErrorOutcome = { severity, action: 'logged', recovered: false, value: undefined, count };
    switch (severity) {
      case ErrorSeverity.LOW:
        this.log('warn', 'error handled (low): continuing', meta);
        break;
      case ErrorSeverity.MEDIUM:
        if (operation) {
          this.log('warn', 'error handled (medium): retrying with backoff', meta);
          outcome.action = 'retried';
          try {
            outcome.value = await this.retry.execute(({ attempt }) => (attempt === 1 ? Promise.reject(err) : operation()));
            outcome.recovered = true;
          } catch (e) {
            outcome.retryError = e instanceof Error ? e : toSovError(e);
            this.log('error', 'retry did not recover', { ...meta, retryError: outcome.retryError.message });
          }
        } else {
          this.log('warn', 'error handled (medium): nothing to retry', meta);
        }
        break;
      case ErrorSeverity.HIGH: {
        this.log('error', 'error handled (high)', meta);
        outcome.action = 'counted';
        if (entry && this.countTowardsBreak(entry, err)) outcome.action = 'circuit-opened';
        break;
      }
      case ErrorSeverity.CRITICAL:
        this.log('error', 'critical error: alerting and shutting down', meta);
        outcome.action = 'shutdown';
        await this.critical(err, context);
        break;
    }

    if (entry?.reg.handler && !outcome.recovered) {
      try {
        outcome.value = await entry.reg.handler(err, context);
      } catch (e) {
        this.log('error', 'error handler failed', { errorType: className, error: toSovError(e).message });
      }
    }
    return outcome;
  }

  private entryFor(error: unknown): Entry | undefined {
    if (typeof error !== 'object' || error === null) return undefined;
    for (let proto: unknown = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
      const ctor = (proto as { constructor?: unknown }).constructor;
      const hit = typeof ctor === 'function' ? this.entries.get(ctor as ErrorClass) : undefined;
      if (hit) return hit;
    }
    // Another copy of the class (two versions of a package): match by name.
    const name = (error as { name?: unknown }).name;
    for (const entry of this.entries.values()) if (entry.cls.name === name) return entry;
    return undefined;
  }

  private countTowardsBreak(entry: Entry, error: Error): boolean {
    entry.sinceBreak++;
    const threshold = entry.reg.breakAfter ?? 10;
    if (entry.sinceBreak < threshold) return false;
    const count = entry.sinceBreak;
    entry.sinceBreak = 0;
    const breaker = entry.reg.breaker ?? this.options.breaker;
    if (breaker) {
      const release = breaker.isolate();
      const clock = this.options.clock ?? systemClock;
      clock.setTimeout(release, entry.reg.breakForMs ?? 30_000);
    }
    this.log('error', 'error threshold reached: circuit opened', { errorType: entry.cls.name, count, breaker: breaker?.name });
    for (const listener of this.breakListeners) listener({ errorClass: entry.cls.name, count, error });
    return true;
  }

  private async critical(error: Error, context: ErrorContext): Promise<void> {
    try {
      await this.options.onCritical?.(error, context);
    } catch (e) {
      this.log('error', 'critical alert hook failed', { error: toSovError(e).message });
    }
    if (this.shutdownStarted || !this.options.shutdown) return;
    this.shutdownStarted = true;
    // Not awaited: the error may come from a request that the shutdown drains.
    void Promise.resolve()
      .then(() => this.options.shutdown?.(`critical error: ${error.message}`))
      .catch((e: unknown) => this.log('error', 'shutdown after critical error failed', { error: toSovError(e).message }));
  }

  private log(level: 'warn' | 'error', message: string, meta: Record<string, unknown>): void {
    (this.options.logger?.[level].bind(this.options.logger) ?? noop)(message, meta);
  }
}
