import { ManualClock } from '@sov/testing';
import { ServiceRouter } from './serviceRouter';
import { caller, failure } from './__tests__/routerFixtures';

describe('ServiceRouter: stake', () => {
  const gated = { name: 'premium', minStake: 100, handler: async () => 'served' };

  it('UNAUTHORIZED for an anonymous caller of a stake-gated service; stake is never read', async () => {
    const getStake = jest.fn(async () => 1000);
    const router = new ServiceRouter({ getStake }).register(gated);
    const error = failure(await router.handleRequest({ service: 'premium' }));
    expect(error).toEqual({ code: 'UNAUTHORIZED', message: expect.stringMatching(/needs a stake of 100: sign the request/) });
    expect(getStake).not.toHaveBeenCalled();
  });

  it('ignores a client_id in the request body: only the verified caller counts', async () => {
    const router = new ServiceRouter({ getStake: async () => 1000 }).register(gated);
    expect(failure(await router.handleRequest({ service: 'premium', client_id: 'rich' })).code).toBe('UNAUTHORIZED');
  });

  it('INSUFFICIENT_STAKE below minStake, with required and current', async () => {
    const router = new ServiceRouter({ getStake: async () => 40 }).register(gated);
    const error = failure(await router.handleRequest({ service: 'premium' }, caller('did:key:alice')));
    expect(error).toEqual({
      code: 'INSUFFICIENT_STAKE',
      message: 'Insufficient stake for service "premium": required 100, did:key:alice has 40',
      details: { required: 100, current: 40 },
    });
  });

  it('serves a caller at or above minStake', async () => {
    const router = new ServiceRouter({ getStake: async () => 100 }).register(gated);
    await expect(router.handleRequest({ service: 'premium' }, caller('did:key:alice'))).resolves.toMatchObject({ success: true, result: 'served' });
  });

  it('reads a stake once per caller for a burst (concurrent calls share the lookup) and again after the TTL', async () => {
    const clock = new ManualClock({ start: 1_000_000 });
    const stakes: Record<string, number> = { 'did:key:alice': 150, 'did:key:bob': 10 };
    const getStake = jest.fn(async (id: string) => stakes[id] ?? 0);
    const router = new ServiceRouter({ getStake, clock, stakeCacheTtlMs: 5000 }).register(gated);
    const replies = await Promise.all(Array.from({ length: 10 }, () => router.handleRequest({ service: 'premium' }, caller('did:key:alice'))));
    expect(replies.every((r) => r.success)).toBe(true);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('did:key:bob'))).code).toBe('INSUFFICIENT_STAKE');
    expect(getStake).toHaveBeenCalledTimes(2);
    stakes['did:key:bob'] = 500;
    clock.advance(4999);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('did:key:bob'))).code).toBe('INSUFFICIENT_STAKE');
    clock.advance(1);
    await expect(router.handleRequest({ service: 'premium' }, caller('did:key:bob'))).resolves.toMatchObject({ success: true });
    expect(getStake).toHaveBeenCalledTimes(3);
  });

  it('invalidateStake forgets a cached stake at once', async () => {
    let stake = 0;
    const router = new ServiceRouter({ getStake: async () => stake }).register(gated);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('c'))).code).toBe('INSUFFICIENT_STAKE');
    stake = 100;
    router.invalidateStake('c');
    await expect(router.handleRequest({ service: 'premium' }, caller('c'))).resolves.toMatchObject({ success: true });
  });

  it('keeps the cache bounded', async () => {
    const getStake = jest.fn(async (_id: string) => 100);
    const router = new ServiceRouter({ getStake, stakeCacheSize: 2 }).register(gated);
    for (const id of ['a', 'b', 'c', 'a']) await router.handleRequest({ service: 'premium' }, caller(id));
    expect(getStake.mock.calls.map((c) => c[0])).toEqual(['a', 'b', 'c', 'a']);
  });

  it('UNAVAILABLE when the stake cannot be read; the failure is not cached', async () => {
    const getStake = jest.fn().mockRejectedValueOnce(new Error('registry down')).mockResolvedValue(100);
    const router = new ServiceRouter({ getStake }).register(gated);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('a')))).toEqual({
      code: 'UNAVAILABLE',
      message: 'Cannot check the stake of a: registry down',
    });
    await expect(router.handleRequest({ service: 'premium' }, caller('a'))).resolves.toMatchObject({ success: true });
  });

  it('UNAVAILABLE for a standalone router with no stake source', async () => {
    const router = new ServiceRouter().register(gated);
    expect(failure(await router.handleRequest({ service: 'premium' }, caller('a'))).code).toBe('UNAVAILABLE');
  });
});
