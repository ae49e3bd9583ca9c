import type { Clock } from './clock';
import { DeadlineQueue, type DeadlineEntry } from './deadlineQueue';

/** A clock whose time and timers move only when told. */
function manualClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextId = 1;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = end;
  };
  return { clock, advance, pendingTimers: () => timers.size };
}

function entry(deadline: number, expired: string[], name: string): DeadlineEntry {
  return { deadline, done: false, next: undefined, expire: () => expired.push(name) };
}

describe('DeadlineQueue', () => {
  it('expires each entry at its own deadline with one timer for all of them', () => {
    const { clock, advance, pendingTimers } = manualClock();
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    queue.add(entry(100, expired, 'a'));
    advance(30);
    queue.add(entry(130, expired, 'b'));
    advance(30);
    queue.add(entry(160, expired, 'c'));
    expect(pendingTimers()).toBe(1);
    advance(39); // t = 99
    expect(expired).toEqual([]);
    advance(1); // t = 100
    expect(expired).toEqual(['a']);
    advance(30); // t = 130
    expect(expired).toEqual(['a', 'b']);
    advance(30); // t = 160
    expect(expired).toEqual(['a', 'b', 'c']);
    expect(pendingTimers()).toBe(0);
  });

  it('never expires an entry that finished, even one behind a pending head', () => {
    const { clock, advance } = manualClock();
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const a = entry(100, expired, 'a');
    const b = entry(110, expired, 'b');
    const c = entry(120, expired, 'c');
    queue.add(a);
    queue.add(b);
    queue.add(c);
    queue.finish(b); // in the middle: stays linked until the head moves past it
    advance(200);
    expect(expired).toEqual(['a', 'c']);
    expect(b.done).toBe(true);
  });

  it('lets its timer lapse once every entry has finished, and arms again for the next', () => {
    const { clock, advance, pendingTimers } = manualClock();
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const a = entry(100, expired, 'a');
    const b = entry(100, expired, 'b');
    queue.add(a);
    queue.add(b);
    queue.finish(b);
    queue.finish(a);
    expect(queue.isEmpty).toBe(true);
    advance(100); // the timer fires, finds nothing, and is not armed again
    expect(pendingTimers()).toBe(0);
    expect(expired).toEqual([]);
    queue.add(entry(600, expired, 'c'));
    expect(pendingTimers()).toBe(1);
    advance(500);
    expect(expired).toEqual(['c']);
  });

  it('stop() drops every pending entry and its timer', () => {
    const { clock, advance, pendingTimers } = manualClock();
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    queue.add(entry(100, expired, 'a'));
    queue.stop();
    expect(pendingTimers()).toBe(0);
    advance(1000);
    expect(expired).toEqual([]);
  });
});
