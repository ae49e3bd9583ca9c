import { ManualClock } from '@sov/core/internal';
import { NonceCache } from './nonceCache';

describe('NonceCache', () => {
  it('refuses a value seen before its expiry, accepts it after', () => {
    const clock = new ManualClock({ start: 1_000 });
    const cache = new NonceCache({ clock });
    expect(cache.add('a', 2_000)).toBe('fresh');
    expect(cache.add('a', 2_000)).toBe('replay');
    expect(cache.has('a')).toBe(true);
    clock.set(2_000);
    expect(cache.has('a')).toBe(false);
    expect(cache.add('a', 3_000)).toBe('fresh');
  });

  it('drops expired entries', () => {
    const clock = new ManualClock({ start: 0 });
    const cache = new NonceCache({ clock });
    for (let i = 0; i < 100; i++) cache.add(`n${i}`, 1_000);
    clock.set(1_001);
    cache.add('late', 5_000);
    expect(cache.size).toBe(1);
  });

  it('stays bounded and never reopens a replay: evicted values, and anything older, are refused', () => {
    const clock = new ManualClock({ start: 0 });
    const cache = new NonceCache({ maxEntries: 3, clock });
    expect(cache.add('a', 10_000)).toBe('fresh');
    expect(cache.add('b', 11_000)).toBe('fresh');
    expect(cache.add('c', 12_000)).toBe('fresh');
    expect(cache.add('d', 13_000)).toBe('fresh'); // evicts a: floor = 10000
    expect(cache.size).toBe(3);
    expect(cache.add('a', 10_000)).toBe('evicted'); // the replay of a is still refused
    expect(cache.add('e', 9_000)).toBe('evicted'); // older than the floor: cannot be checked
    expect(cache.add('b', 11_000)).toBe('replay');
    expect(cache.add('f', 14_000)).toBe('fresh');
    expect(cache.size).toBe(3);
  });

  it('holds a value added again after it expired until its new expiry: its old place in line evicts nothing', () => {
    const clock = new ManualClock({ start: 0 });
    const cache = new NonceCache({ maxEntries: 2, clock });
    expect(cache.add('a', 10)).toBe('fresh');
    clock.set(20); // a has expired; the sweep waits (at most every 100 ms)
    expect(cache.add('a', 5_000)).toBe('fresh');
    clock.set(150); // the sweep reaches a's first place in line, which is no longer its place
    expect(cache.add('b', 6_000)).toBe('fresh');
    expect(cache.add('a', 5_000)).toBe('replay');
    // Full: the oldest live value (a, added before b) is evicted, not b.
    expect(cache.add('c', 7_000)).toBe('fresh');
    expect(cache.has('a')).toBe(false);
    expect(cache.add('b', 6_000)).toBe('replay');
    expect(cache.add('a', 5_000)).toBe('evicted');
    expect(cache.size).toBe(2);
  });

  it('under a long flood with values re-added after expiry, stays bounded and refuses every value it still holds or evicted', () => {
    const clock = new ManualClock({ start: 0 });
    const cache = new NonceCache({ maxEntries: 500, clock });
    const added: Array<[string, number]> = [];
    for (let i = 0; i < 20_000; i++) {
      clock.set(i);
      // Every tenth value is an old one again, long expired (its first place in line is stale).
      const value = i % 10 === 9 && i > 5_000 ? `v${i - 5_000}` : `v${i}`;
      const expiresAt = i + 1_000;
      if (cache.add(value, expiresAt) === 'fresh') added.push([value, expiresAt]);
      expect(cache.size).toBeLessThanOrEqual(500);
    }
    expect(added.length).toBeGreaterThan(19_000);
    // Whatever was taken and has not expired is refused again: as a replay while held, as evicted once dropped.
    let refused = 0;
    for (const [value, expiresAt] of added.slice(-3_000)) {
      if (expiresAt <= clock.now()) continue;
      expect(cache.add(value, expiresAt)).not.toBe('fresh');
      refused++;
    }
    expect(refused).toBeGreaterThan(900);
  });
});
