import type { Clock } from '../clock';
import { SovError } from '../errors/sovError';

/** Options of a {@link ManualClock}. */
export interface ManualClockOptions {
  /**
   * Epoch milliseconds the clock reads at first.
   * @default Date.UTC(2026, 0, 1)
   */
  start?: number;
  /**
   * `true`: `now()` is the real time plus what `advance`/`set` added, and
   * timers are the real ones (unref'd). For tests that run servers on real
   * timers but need a receiver's "now" to jump (a session expiring).
   * @default false
   */
  overRealTime?: boolean;
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A {@link Clock} that tests move by hand. By default nothing moves on its
 * own: `now()` stays put and a timer fires only when `advance` (or `set`)
 * reaches its time, in order of due time (ties in the order they were set),
 * timers set by a timer included. With `overRealTime` it is the real clock
 * shifted by what the test added.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * clock.setTimeout(() => console.log('fired'), 1_000);
 * clock.advance(999); // nothing
 * clock.advance(1);   // fired
 * ```
 */
export class ManualClock implements Clock {
  private current: number;
  private offsetMs = 0;
  private readonly overRealTime: boolean;
  private readonly timers = new Map<number, ManualTimer>();
  private nextId = 1;

  constructor(options: ManualClockOptions = {}) {
    const start = options.start ?? Date.UTC(2026, 0, 1);
    if (!Number.isFinite(start)) throw new SovError('INVALID_INPUT', `ManualClock needs a finite start time in epoch ms, got ${String(start)}`);
    this.current = start;
    this.overRealTime = options.overRealTime ?? false;
    if (this.overRealTime && options.start !== undefined) this.offsetMs = start - Date.now();
  }

  now(): number {
    return this.overRealTime ? Date.now() + this.offsetMs : this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    if (this.overRealTime) return setTimeout(fn, ms).unref();
    const id = this.nextId++;
    // As Node does: a negative or non-numeric delay is "now".
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.timers.set(id, { at: this.current + delay, seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (this.overRealTime) return clearTimeout(handle as ReturnType<typeof setTimeout>);
    this.timers.delete(handle as number);
  }

  /** Timers set and not yet fired nor cleared (always 0 over real time). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms` and fires every timer that comes due, each at
   * its own time (`now()` inside a timer reads its due time). `advance(0)`
   * fires the timers due now.
   * @throws SovError `INVALID_INPUT` for a negative or non-finite `ms`, moving nothing.
   */
  advance(ms: number): void {
    const end = this.checkedEnd(ms, 'advance');
    for (let due = this.nextDue(end); due; due = this.nextDue(end)) this.fire(due);
    this.moveTo(end);
  }

  /**
   * As {@link ManualClock.advance}, yielding to the event loop
   * (`setImmediate`) after each timer, so the async work a timer starts
   * (a promise chain, a socket write) runs before the next one fires.
   * @throws SovError `INVALID_INPUT` for a negative or non-finite `ms`, moving nothing.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.checkedEnd(ms, 'advanceAsync');
    for (let due = this.nextDue(end); due; due = this.nextDue(end)) {
      this.fire(due);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.moveTo(end);
  }

  /**
   * Sets the time to `epochMs`. Forward, it is `advance(epochMs - now())`;
   * backward, the time goes back and no timer fires (each keeps its due time).
   * @throws SovError `INVALID_INPUT` for a non-finite `epochMs`, moving nothing.
   */
  set(epochMs: number): void {
    if (!Number.isFinite(epochMs)) throw new SovError('INVALID_INPUT', `ManualClock.set needs a finite time in epoch ms, got ${String(epochMs)}`);
    const now = this.now();
    if (epochMs >= now) this.advance(epochMs - now);
    else this.moveTo(epochMs);
  }

  private checkedEnd(ms: number, method: string): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new SovError('INVALID_INPUT', `ManualClock.${method} moves time forward only: ms must be a finite number >= 0, got ${String(ms)}`);
    }
    return this.now() + ms;
  }

  private moveTo(epochMs: number): void {
    if (this.overRealTime) this.offsetMs = epochMs - Date.now();
    else this.current = epochMs;
  }

  private nextDue(end: number): [number, ManualTimer] | undefined {
    let first: [number, ManualTimer] | undefined;
    for (const entry of this.timers) {
      const t = entry[1];
      if (t.at <= end && (!first || t.at < first[1].at || (t.at === first[1].at && t.seq < first[1].seq))) first = entry;
    }
    return first;
  }

  private fire([id, timer]: [number, ManualTimer]): void {
    this.timers.delete(id);
    if (timer.at > this.current) this.current = timer.at;
    timer.fn();
  }
}
