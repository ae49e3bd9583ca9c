import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { CircuitOpenError } from './errors/circuitOpenError';
import { isBrokenCircuit, isIsolatedCircuit } from './internal/cockatielErrors';
import { isRetryable } from './isRetryable';
import { NEVER_ABORTED } from './internal/neverAborted';
import type { Dispose, Policy, Work } from './policy';

/** The states of a circuit breaker. */
export type CircuitBreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Options of a CircuitBreaker. */
export interface CircuitBreakerOptions {
  /** Name used in errors and logs (a peer breaker is named after the peer's endpoint). @default 'circuit' */
  name?: string;
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number;
  /** Milliseconds the circuit stays open before it lets one probe call through (half-open). @default 60000 */
  recoveryTimeout?: number;
  /**
   * Whether an error counts as a failure of the dependency. Errors that do not
   * count pass through and leave the breaker as it is (a 404 says nothing
   * about the peer's health).
   * @default isRetryable
   */
  isFailure?: (error: unknown) => boolean;
}

/** What `onBreak` reports. */
export interface BreakEvent {
  /** The failure that opened the circuit; undefined when it was opened by hand. */
  error: Error | undefined;
  /** Whether the circuit was opened by hand (`isolate()`). */
  isolated: boolean;
}

/** cockatiel's consecutive-failure count, telling listeners of each success. */
class ListeningBreaker extends ConsecutiveBreaker {
  constructor(
    threshold: number,
    private readonly listeners: ReadonlySet<() => void>,
  ) {
    super(threshold);
  }

  override success(): void {
    super.success();
    for (const l of this.listeners) l();
  }
}

const STATE_NAMES: Record<CircuitState, CircuitBreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Stops calling a dependency that keeps failing. After `failureThreshold`
 * consecutive failures the circuit opens and calls fail at once with a
 * CircuitOpenError; after `recoveryTimeout` one probe call is let through
 * (half-open) while the others wait for its outcome: success closes the
 * circuit, failure opens it again. On cockatiel.
 *
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 5, recoveryTimeout: 60_000 });
 * breaker.onBreak(({ error }) => log.warn('peer circuit open', { error: error?.message }));
 * const reply = await breaker.call(({ signal }) => peers.call(url, request, { signal }));
 */
export class CircuitBreaker implements Policy {
  /** The breaker's name. */
  readonly name: string;
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** Milliseconds between opening and the first probe. */
  readonly recoveryTimeout: number;
  private readonly inner: CircuitBreakerPolicy;
  private openedAt = 0;
  private readonly successListeners = new Set<() => void>();
  private readonly counter: ListeningBreaker;

  constructor(options: CircuitBreakerOptions = {}) {
    this.name = options.name ?? 'circuit';
    this.failureThreshold = options.failureThreshold ?? 5;
    this.recoveryTimeout = options.recoveryTimeout ?? 60_000;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError(`CircuitBreaker failureThreshold must be an integer >= 1, got ${this.failureThreshold}`);
    }
    if (!(this.recoveryTimeout >= 0) || !Number.isFinite(this.recoveryTimeout)) {
      throw new RangeError(`CircuitBreaker recoveryTimeout must be a finite number >= 0, got ${this.recoveryTimeout}`);
    }
    const isFailure = options.isFailure ?? isRetryable;
    this.inner = circuitBreaker(handleWhen(isFailure), {
      halfOpenAfter: this.recoveryTimeout,
      breaker: (this.counter = new ListeningBreaker(this.failureThreshold, this.successListeners)),
    });
    // cockatiel reads Date.now() for the same purpose; read it alike so the two agree under fake timers.
    this.inner.onBreak(() => {
      this.openedAt = Date.now();
    });
  }

  /** The current state. */
  get state(): CircuitBreakerState {
    return STATE_NAMES[this.inner.state];
  }

  /** Runs `fn` through the breaker; rejects with CircuitOpenError while the circuit is open. The guide's `CircuitBreaker.call`. */
  call<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    return this.execute(fn, signal ?? NEVER_ABORTED);
  }

  /** Same as `call`: the Policy interface. */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    const s = signal ?? NEVER_ABORTED;
    if (this.inner.state !== CircuitState.Closed) return this.executeGuarded(fn, s);
    // A closed circuit: run the work here and do on success what cockatiel does (tell the breaker); a failure is
    // handed to cockatiel as it is, to be counted (and maybe open the circuit) exactly as if the call had run through
    // it. This spares each successful call cockatiel's two async frames, about a microsecond over a real connection.
    let work: T | PromiseLike<T>;
    try {
      work = fn({ signal: s });
    } catch (e) {
      return this.failedWhileClosed(e, s);
    }
    return Promise.resolve(work).then(this.succeededWhileClosed, (e: unknown) => this.failedWhileClosed(e, s));
  }

  private readonly succeededWhileClosed = <T>(value: T): T => {
    this.counter.success();
    return value;
  };

  private failedWhileClosed(thrown: unknown, signal: AbortSignal): Promise<never> {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    // Opened meanwhile by other calls: cockatiel would only count it again; the caller gets the call's own error.
    if (this.inner.state !== CircuitState.Closed) return Promise.reject(error);
    return this.inner.execute(() => Promise.reject(error), signal);
  }

  private async executeGuarded<T>(fn: Work<T>, signal: AbortSignal): Promise<T> {
    try {
      return await this.inner.execute(fn, signal);
    } catch (e) {
      if (isIsolatedCircuit(e)) throw new CircuitOpenError(this.name, { isolated: true, cause: this.lastError() });
      if (isBrokenCircuit(e)) {
        const retryAfterMs = Math.max(0, this.openedAt + this.recoveryTimeout - Date.now());
        throw new CircuitOpenError(this.name, { retryAfterMs, cause: this.lastError() });
      }
      throw e;
    }
  }

  /** Opens the circuit by hand until the returned function is called (the ErrorHandler does this for HIGH errors). */
  isolate(): Dispose {
    const handle = this.inner.isolate();
    return () => handle.dispose();
  }

  /** Subscribes to the circuit opening; returns a function that unsubscribes. */
  onBreak(listener: (event: BreakEvent) => void): Dispose {
    const sub = this.inner.onBreak((reason) => {
      const isolated = 'isolated' in reason;
      listener({ error: !isolated && 'error' in reason ? reason.error : undefined, isolated });
    });
    return () => sub.dispose();
  }

  /** Subscribes to the circuit half-opening (a probe call is about to run); returns a function that unsubscribes. */
  onHalfOpen(listener: () => void): Dispose {
    const sub = this.inner.onHalfOpen(() => listener());
    return () => sub.dispose();
  }

  /** Subscribes to the circuit closing again; returns a function that unsubscribes. */
  onReset(listener: () => void): Dispose {
    const sub = this.inner.onReset(() => listener());
    return () => sub.dispose();
  }

  /**
   * Subscribes to successful calls through the breaker; returns a function that
   * unsubscribes. Told by the breaker's own count, so it costs no promise (and
   * no stopwatch, unlike cockatiel's policy-level onSuccess).
   */
  onSuccess(listener: () => void): Dispose {
    this.successListeners.add(listener);
    return () => this.successListeners.delete(listener);
  }

  /** Subscribes to every state change; returns a function that unsubscribes. */
  onStateChange(listener: (state: CircuitBreakerState) => void): Dispose {
    const sub = this.inner.onStateChange((s) => listener(STATE_NAMES[s]));
    return () => sub.dispose();
  }

  private lastError(): Error | undefined {
    const last = this.inner.lastFailure;
    return last && 'error' in last ? last.error : undefined;
  }
}
