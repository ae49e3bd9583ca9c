import type { AgentStanding, RegistryStore, StoredAgent } from '@sov/registry';

/** The test functions the suite needs: jest's or vitest's globals fit. */
export interface ConformanceTestApi {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: () => Promise<void>) => void;
  beforeEach: (fn: () => Promise<void>) => void;
  afterEach: (fn: () => Promise<void>) => void;
}

interface Expectable {
  toBe: (v: unknown) => void;
  toEqual: (v: unknown) => void;
  toBeUndefined: () => void;
  toHaveLength: (n: number) => void;
  rejects: { toMatchObject: (v: unknown) => Promise<void> };
}
type Expect = (value: unknown) => Expectable;

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A stored agent for tests; every field can be overridden. */
export function storedAgent(id: string, overrides: Partial<StoredAgent> = {}): StoredAgent {
  const ttl = overrides.ttl ?? 30;
  return {
    id,
    name: `agent ${id}`,
    endpoint: `http://127.0.0.1:1/${id}`,
    capabilities: [],
    services: [],
    metadata: {},
    ttl,
    registeredAt: new Date(T0).toISOString(),
    lastHeartbeat: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + ttl * 1000).toISOString(),
    reputation: 0.5,
    expiresAtMs: T0 + ttl * 1000,
    firstSeenMs: T0,
    lastBeatMs: T0,
    liveMs: 0,
    ...overrides,
  };
}

/** A standing with one rater, for tests. */
function standing(agentId: string, reputation: number): AgentStanding {
  return { agentId, reputation, ratings: 1, raters: [{ id: 'rater', mean: reputation, count: 1, lastAtMs: T0 }], folded: { sum: 0, count: 0 } };
}

/**
 * The conformance suite every RegistryStore must pass. Call it from a test
 * file with a factory that makes a fresh, opened store each time (and,
 * optionally, one that reopens the same data, for persistence).
 *
 * @example
 * describeRegistryStoreConformance('MemoryRegistryStore', { create: async () => new MemoryRegistryStore() });
 */
export function describeRegistryStoreConformance(
  name: string,
  factory: {
    create: () => Promise<RegistryStore>;
    /** Closes `store` and opens the same data again; given for persistent stores. */
    reopen?: (store: RegistryStore) => Promise<RegistryStore>;
  },
  api: ConformanceTestApi & { expect: Expect } = globalThis as unknown as ConformanceTestApi & { expect: Expect },
): void {
  const { describe, it, beforeEach, afterEach, expect } = api;
  const ids = (page: { agents: StoredAgent[] }) => page.agents.map((a) => a.id);

  describe(`RegistryStore conformance: ${name}`, () => {
    let store: RegistryStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
    });

    it('puts, gets, replaces and deletes agents', async () => {
      await store.put(storedAgent('a', { capabilities: ['x'] }));
      expect((await store.get('a'))?.capabilities).toEqual(['x']);
      await store.put(storedAgent('a', { capabilities: ['y'] }));
      expect((await store.get('a'))?.capabilities).toEqual(['y']);
      expect(await store.count()).toBe(1);
      expect(await store.delete('a')).toBe(true);
      expect(await store.delete('a')).toBe(false);
      expect(await store.get('a')).toBeUndefined();
    });

    it('finds agents that have every requested capability, and re-indexes on replace', async () => {
      await store.put(storedAgent('a', { capabilities: ['x', 'y'] }));
      await store.put(storedAgent('b', { capabilities: ['x'] }));
      await store.put(storedAgent('c', { capabilities: ['y'] }));
      expect(ids(await store.search({ capabilities: ['x'], limit: 10 }, T0)).sort()).toEqual(['a', 'b']);
      expect(ids(await store.search({ capabilities: ['x', 'y'], limit: 10 }, T0))).toEqual(['a']);
      expect(ids(await store.search({ capabilities: ['z'], limit: 10 }, T0))).toEqual([]);
      await store.put(storedAgent('b', { capabilities: ['y'] }));
      expect(ids(await store.search({ capabilities: ['x'], limit: 10 }, T0))).toEqual(['a']);
    });

    it('orders by reputation high to low, then id, and filters by reputation and price', async () => {
      await store.put(storedAgent('b', { reputation: 0.9, services: [{ name: 's', price: 5 }] }));
      await store.put(storedAgent('a', { reputation: 0.9, services: [{ name: 's', price: 1 }] }));
      await store.put(storedAgent('c', { reputation: 0.2 }));
      expect(ids(await store.search({ limit: 10 }, T0))).toEqual(['a', 'b', 'c']);
      expect(ids(await store.search({ minReputation: 0.5, limit: 10 }, T0))).toEqual(['a', 'b']);
      expect(ids(await store.search({ maxPrice: 2, limit: 10 }, T0))).toEqual(['a', 'c']);
    });

    it('pages with a cursor, each agent once, and counts every match', async () => {
      for (let i = 0; i < 7; i++) await store.put(storedAgent(`p${i}`, { capabilities: ['x'] }));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.search({ capabilities: ['x'], limit: 3, ...(cursor ? { cursor } : {}) }, T0);
        expect(page.total).toBe(7);
        seen.push(...ids(page));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    });

    it('refuses a cursor it did not make', async () => {
      await expect(store.search({ limit: 3, cursor: 'bogus!' }, T0)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });

    it('leaves out agents whose lease ended, and expire() removes exactly those', async () => {
      await store.put(storedAgent('short', { ttl: 1, expiresAtMs: T0 + 1000, capabilities: ['x'] }));
      await store.put(storedAgent('long', { ttl: 60, expiresAtMs: T0 + 60_000, capabilities: ['x'] }));
      expect(ids(await store.search({ capabilities: ['x'], limit: 10 }, T0 + 2000))).toEqual(['long']);
      const gone = await store.expire(T0 + 2000);
      expect(gone.map((a) => a.id)).toEqual(['short']);
      expect(await store.count()).toBe(1);
      expect(await store.get('short')).toBeUndefined();
    });

    it('credits and debits stakes, never below zero', async () => {
      expect(await store.getStake('a')).toBe(0);
      expect(await store.adjustStake('a', 100)).toBe(100);
      expect(await store.adjustStake('a', -40)).toBe(60);
      await expect(store.adjustStake('a', -61)).rejects.toMatchObject({ code: 'INSUFFICIENT_STAKE' });
      expect(await store.getStake('a')).toBe(60);
    });

    it('keeps stakes exact: whole minor units, up to MAX_AMOUNT and no further', async () => {
      // The float drift the old stakes had: 0.3 - 0.1 - 0.2 left 0.19999999999999998 behind.
      expect(await store.adjustStake('m', 30)).toBe(30);
      expect(await store.adjustStake('m', -10)).toBe(20);
      expect(await store.adjustStake('m', -20)).toBe(0);
      await expect(store.adjustStake('m', 0.5)).rejects.toMatchObject({ code: 'INVALID_AMOUNT' });
      expect(await store.adjustStake('big', Number.MAX_SAFE_INTEGER - 1)).toBe(Number.MAX_SAFE_INTEGER - 1);
      expect(await store.adjustStake('big', 1)).toBe(Number.MAX_SAFE_INTEGER);
      await expect(store.adjustStake('big', 1)).rejects.toMatchObject({ code: 'INVALID_AMOUNT' });
      expect(await store.getStake('big')).toBe(Number.MAX_SAFE_INTEGER);
      expect(await store.getStake('m')).toBe(0);
    });

    it('records feedback at once: receipt used, standing and record written, and refuses a used receipt writing nothing', async () => {
      await store.put(storedAgent('rated', { capabilities: ['x'] }));
      expect(await store.getStanding('rated')).toBeUndefined();
      const first = standing('rated', 0.7);
      const agent = { ...(await store.get('rated'))!, reputation: 0.7 };
      expect(await store.recordFeedback({ receiptId: 'fb1', standing: first, agent })).toBe(true);
      expect(await store.getStanding('rated')).toEqual(first);
      expect((await store.get('rated'))?.reputation).toBe(0.7);
      expect(ids(await store.search({ capabilities: ['x'], minReputation: 0.6, limit: 10 }, T0))).toEqual(['rated']);
      const again = await Promise.all([
        store.recordFeedback({ receiptId: 'fb2', standing: standing('rated', 0.1) }),
        store.recordFeedback({ receiptId: 'fb2', standing: standing('rated', 0.1) }),
      ]);
      expect(again.filter(Boolean)).toHaveLength(1);
      expect(await store.recordFeedback({ receiptId: 'fb1', standing: standing('rated', 0.0) })).toBe(false);
      expect((await store.getStanding('rated'))?.reputation).toBe(0.1);
      expect(await store.useReceipt('fb1')).toBe(false);
    });

    it('keeps a standing when the agent leaves (reputation belongs to the id)', async () => {
      await store.put(storedAgent('leaver'));
      await store.recordFeedback({ receiptId: 'l1', standing: standing('leaver', 0.2) });
      await store.delete('leaver');
      expect((await store.getStanding('leaver'))?.reputation).toBe(0.2);
      await store.recordFeedback({ receiptId: 'l2', standing: standing('ghost', 0.3) });
      expect((await store.getStanding('ghost'))?.reputation).toBe(0.3);
    });

    it('counts a receipt once, even under concurrent use', async () => {
      const results = await Promise.all([store.useReceipt('r1'), store.useReceipt('r1'), store.useReceipt('r1')]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.useReceipt('r1')).toBe(false);
      expect(await store.useReceipt('r2')).toBe(true);
    });

    it('gives events increasing ids and replays what came after an id', async () => {
      const at = new Date(T0).toISOString();
      const e1 = await store.appendEvent({ type: 'peer_joined', at, data: { peer_id: 'a' } });
      const e2 = await store.appendEvent({ type: 'peer_left', at, data: { peer_id: 'a' } });
      expect(Number(e2.id) > Number(e1.id)).toBe(true);
      const after = await store.eventsAfter(e1.id);
      expect(after.events.map((e) => e.id)).toEqual([e2.id]);
      expect(after.truncated).toBe(false);
      expect((await store.eventsAfter(undefined)).events.map((e) => e.id)).toEqual([e1.id, e2.id]);
      for (const bad of ['not-a-number', '', '0x10', '1e3', '-1', '99999999999999999999999']) {
        await expect(store.eventsAfter(bad)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      }
      expect(await store.latestEventId()).toBe(e2.id);
    });

    it("names '0' as the latest event id before any event", async () => {
      expect(await store.latestEventId()).toBe('0');
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('keeps agents, stakes, receipts and events across a reopen', async () => {
        await store.put(storedAgent('kept', { capabilities: ['x'], reputation: 0.7 }));
        await store.put(storedAgent('gone', { capabilities: ['x'] }));
        await store.delete('gone');
        await store.adjustStake('kept', 42);
        await store.useReceipt('used');
        await store.recordFeedback({ receiptId: 'rated-before', standing: standing('kept', 0.7) });
        const ev = await store.appendEvent({ type: 'peer_joined', at: new Date(T0).toISOString(), data: { peer_id: 'kept' } });
        store = await reopen(store);
        expect(ids(await store.search({ capabilities: ['x'], limit: 10 }, T0))).toEqual(['kept']);
        expect((await store.get('kept'))?.reputation).toBe(0.7);
        expect(await store.getStake('kept')).toBe(42);
        expect(await store.useReceipt('used')).toBe(false);
        expect(await store.useReceipt('rated-before')).toBe(false);
        expect(await store.getStanding('kept')).toEqual(standing('kept', 0.7));
        expect((await store.eventsAfter(undefined)).events.map((e) => e.id)).toEqual([ev.id]);
        const next = await store.appendEvent({ type: 'peer_left', at: new Date(T0).toISOString(), data: { peer_id: 'kept' } });
        expect(Number(next.id) > Number(ev.id)).toBe(true);
        expect(await store.latestEventId()).toBe(next.id);
      });
    }
  });
}
