import type { StoredAgent } from '../storedAgent';
import { SearchCache } from './searchCache';

const leaseEndingAt = (expiresAtMs: number): StoredAgent => ({ expiresAtMs }) as StoredAgent;

describe('SearchCache', () => {
  it('serves an answer again until ttlMs has passed', () => {
    const cache = new SearchCache(1000);
    cache.set('/v1/agents?capability=a', cache.generation, 5000, [], '{"a":1}');
    expect(cache.get('/v1/agents?capability=a', 5999)).toBe('{"a":1}');
    expect(cache.get('/v1/agents?capability=a', 6000)).toBeUndefined();
    expect(cache.get('/v1/agents?capability=b', 5000)).toBeUndefined();
  });

  it('serves no answer past the first lease in it that ends', () => {
    const cache = new SearchCache(1000);
    cache.set('/q', cache.generation, 5000, [leaseEndingAt(9000), leaseEndingAt(5400)], 'body');
    expect(cache.get('/q', 5399)).toBe('body');
    expect(cache.get('/q', 5400)).toBeUndefined();
  });

  it('drops every answer on an event that changes search results, not on a stake change or a routed request', () => {
    const cache = new SearchCache(1000);
    cache.set('/q', cache.generation, 0, [], 'body');
    cache.noteEvent('stake_changed');
    cache.noteEvent('new_request');
    expect(cache.get('/q', 1)).toBe('body');
    cache.noteEvent('reputation_changed');
    expect(cache.get('/q', 1)).toBeUndefined();
  });

  it('does not keep an answer searched before a change it did not see', () => {
    const cache = new SearchCache(1000);
    const before = cache.generation;
    cache.noteEvent('peer_joined');
    cache.set('/q', before, 0, [], 'stale');
    expect(cache.get('/q', 1)).toBeUndefined();
  });

  it('keeps nothing with ttlMs 0', () => {
    const cache = new SearchCache(0);
    cache.set('/q', cache.generation, 0, [], 'body');
    expect(cache.get('/q', 0)).toBeUndefined();
  });

  it('keeps at most 1000 answers, dropping the oldest first', () => {
    const cache = new SearchCache(1000);
    for (let i = 0; i <= 1000; i++) cache.set(`/q${i}`, cache.generation, 0, [], `body ${i}`);
    expect(cache.get('/q0', 1)).toBeUndefined();
    expect(cache.get('/q1', 1)).toBe('body 1');
    expect(cache.get('/q1000', 1)).toBe('body 1000');
  });
});
