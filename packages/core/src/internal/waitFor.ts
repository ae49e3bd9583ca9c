import { inspect } from 'node:util';
import { SovError } from '../errors/sovError';
import { TimeoutError } from '../errors/timeoutError';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /**
   * How long to keep trying before failing.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Pause between two tries (real time).
   * @default 5
   */
  intervalMs?: number;
}

/**
 * Resolves with the first truthy value `condition` returns, trying again
 * every `intervalMs` of real time; a try that throws (an `expect` that does
 * not hold yet) counts as not yet. After `timeoutMs` it rejects with a
 * `TimeoutError` (code `TIMEOUT`) whose message names `what` was awaited and
 * whose `cause` is the last try's error. For tests that wait for something to
 * happen instead of sleeping a fixed time; it needs real timers.
 *
 * @example
 * ```ts
 * await waitFor('the subscriber to see 3 events', () => seen.length === 3);
 * const record = await waitFor('the record in the mirror', () => mirror.get('a1'));
 * ```
 * @throws SovError `INVALID_INPUT` for an empty `what` or a bad timeout or interval.
 */
export async function waitFor<T>(what: string, condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 5;
  if (typeof what !== 'string' || what.length === 0) throw new SovError('INVALID_INPUT', 'waitFor needs a description of what it waits for');
  if (!(timeoutMs >= 0 && Number.isFinite(timeoutMs))) throw new SovError('INVALID_INPUT', `waitFor(${what}): timeoutMs must be a finite number >= 0, got ${String(timeoutMs)}`);
  if (!(intervalMs >= 0 && Number.isFinite(intervalMs))) throw new SovError('INVALID_INPUT', `waitFor(${what}): intervalMs must be a finite number >= 0, got ${String(intervalMs)}`);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) throw timedOut(what, timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function timedOut(what: string, timeoutMs: number, lastError: unknown): TimeoutError {
  if (lastError === undefined) return new TimeoutError(`Waiting for ${what}`, timeoutMs);
  const error = new TimeoutError(`Waiting for ${what}`, timeoutMs, { cause: lastError });
  // Jest prints the message, not the cause: say why the last try failed.
  error.message += ` (last try: ${lastError instanceof Error ? lastError.message : inspect(lastError)})`;
  return error;
}
