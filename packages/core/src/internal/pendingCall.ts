import type { Clock } from '../clock';
import type { DeadlineEntry, DeadlineQueue } from '../deadlineQueue';
import { abortErrorOf } from '../errors/cancelledError';
import { TimeoutError } from '../errors/timeoutError';

/**
 * A call to a peer waiting for its answer, whatever carries it (an HTTP
 * request, a sov-mux stream): its deadline (a shared DeadlineQueue's, or a
 * timer of its own) and the caller's signal, both ending it through
 * `giveUp`, and `finish`, which lets go of both once it settles.
 */
export abstract class PendingCall implements DeadlineEntry {
  done = false;
  next: DeadlineEntry | undefined = undefined;
  protected settled = false;
  private timer: unknown;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    /** The request route called, for messages. */
    readonly url: string,
    readonly deadline: number,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly queue: DeadlineQueue | undefined,
    private readonly clock: Clock,
  ) {
    if (queue) queue.add(this);
    else this.timer = clock.setTimeout(() => this.expire(), Math.max(0, deadline - clock.now()));
    if (signal) {
      this.onAbort = () => this.giveUp(abortErrorOf(signal, `POST ${url}`));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** The deadline passed. */
  expire(): void {
    this.giveUp(new TimeoutError(`POST ${this.url}`, this.timeoutMs));
  }

  /** Ends the call with `error` at once (the deadline, the caller's abort, a cap). */
  abstract giveUp(error: Error): void;

  /** Marks the call settled and lets go of its deadline and the caller's signal. */
  protected finish(): void {
    this.settled = true;
    if (this.queue) this.queue.finish(this);
    else this.clock.clearTimeout(this.timer);
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
  }
}
