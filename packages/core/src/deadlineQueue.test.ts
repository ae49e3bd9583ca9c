import { ManualClock } from './internal/manualClock';
import { DeadlineQueue, type DeadlineEntry } from './deadlineQueue';

function entry(deadline: number, expired: string[], name: string): DeadlineEntry {
  return { deadline, done: false, next: undefined, expire: () => expired.push(name) };
}

describe('DeadlineQueue', () => {
  it('expires each entry at its own deadline with one timer for all of them', () => {
    const clock = new ManualClock({ start: 0 });
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    queue.add(entry(100, expired, 'a'));
    clock.advance(30);
    queue.add(entry(130, expired, 'b'));
    clock.advance(30);
    queue.add(entry(160, expired, 'c'));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(39); // t = 99
    expect(expired).toEqual([]);
    clock.advance(1); // t = 100
    expect(expired).toEqual(['a']);
    clock.advance(30); // t = 130
    expect(expired).toEqual(['a', 'b']);
    clock.advance(30); // t = 160
    expect(expired).toEqual(['a', 'b', 'c']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never expires an entry that finished, even one behind a pending head', () => {
    const clock = new ManualClock({ start: 0 });
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const a = entry(100, expired, 'a');
    const b = entry(110, expired, 'b');
    const c = entry(120, expired, 'c');
    queue.add(a);
    queue.add(b);
    queue.add(c);
    queue.finish(b); // in the middle: stays linked until the head moves past it
    clock.advance(200);
    expect(expired).toEqual(['a', 'c']);
    expect(b.done).toBe(true);
  });

  it('lets its timer lapse once every entry has finished, and arms again for the next', () => {
    const clock = new ManualClock({ start: 0 });
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const a = entry(100, expired, 'a');
    const b = entry(100, expired, 'b');
    queue.add(a);
    queue.add(b);
    queue.finish(b);
    queue.finish(a);
    expect(queue.isEmpty).toBe(true);
    clock.advance(100); // the timer fires, finds nothing, and is not armed again
    expect(clock.pendingTimers).toBe(0);
    expect(expired).toEqual([]);
    queue.add(entry(600, expired, 'c'));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(500);
    expect(expired).toEqual(['c']);
  });

  it('stop() drops every pending entry and its timer', () => {
    const clock = new ManualClock({ start: 0 });
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    queue.add(entry(100, expired, 'a'));
    queue.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(expired).toEqual([]);
  });
});
