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
});
