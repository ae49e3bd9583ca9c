import { Agent, SovError, createLogger, type RegistryEvent } from '@sov/core';
import { ManualClock } from './index';
import { MockRegistry } from './mockRegistry';

describe('MockRegistry', () => {
  it('serves an agent like the real registry and records every call', async () => {
    const registry = new MockRegistry();
    const seen: RegistryEvent[] = [];
    const sub = registry.subscribe({ types: ['peer_joined', 'peer_left'] });
    sub.onEvent((e) => seen.push(e));
    const agent = new Agent({ name: 'mocked', registry, capabilities: ['x'], logger: createLogger({ silent: true }) });
    await agent.start();
    const page = await registry.search({ capabilities: ['x'] });
    expect(page.agents.map((a) => a.id)).toEqual([agent.id]);
    expect(page.agents[0]!.availability).toBe(1);
    await agent.shutdown();
    expect(registry.callsTo('register')).toHaveLength(1);
    expect(registry.callsTo('deregister')).toHaveLength(1);
    expect(seen.map((e) => e.type)).toEqual(['peer_joined', 'peer_left']);
    expect(sub.lastEventId).toBe(seen[1]!.id);
    await sub.close();
  });

  it('expires leases on its clock and answers LEASE_EXPIRED, then NOT_FOUND after a sweep', async () => {
    const clock = new ManualClock({ start: Date.parse('2026-01-01T00:00:00Z') });
    const registry = new MockRegistry({ clock });
    await registry.register({ id: 'a', name: 'a', endpoint: 'http://127.0.0.1:1', capabilities: [], ttl: 5 });
    clock.advance(6000);
    await expect(registry.heartbeat('a')).rejects.toMatchObject({ code: 'LEASE_EXPIRED' });
    expect(await registry.sweep()).toBe(1);
    await expect(registry.heartbeat('a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('fails a method on demand, to test how callers cope', async () => {
    const registry = new MockRegistry();
    registry.failNext('search', new SovError('UNAVAILABLE', 'registry down'));
    await expect(registry.search({})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    registry.clearFailure('search');
    await expect(registry.search({})).resolves.toMatchObject({ total: 0 });
  });

  it('counts a receipt once for feedback', async () => {
    const registry = new MockRegistry();
    await registry.register({ id: 'served', name: 's', endpoint: 'http://127.0.0.1:1', capabilities: [] });
    const receipt = { id: 'r1', caller: 'rater', callee: 'served', service: 's', at: new Date().toISOString(), signature: 'x' };
    const { reputation } = await registry.submitFeedback({ receipt, rating: 1 });
    expect(reputation).toBeCloseTo(0.6);
    await expect(registry.submitFeedback({ receipt, rating: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
