import { Agent } from '@sov/core';
import { Identity } from '@sov/crypto';
import { federation } from '../index';
import { federatedSearch, federationNet, listing, quiet, until, type NetRegistry } from './federationNet';

const names = (body: { agents: Array<{ name: string }> }) => body.agents.map((a) => a.name);

// Every listing is new (the same reputation, availability 1), so the guide's score orders them by price
// and the primary bonus: with maxPrice 100, 0.3 x (1 - price / 100), + 0.1 for A's own.
// Each registry lists in reputation-then-id order, which is not this order.
const PRICES: Record<string, Record<string, number>> = {
  A: { 'a-90': 90, 'a-95': 95 },
  B: { 'b-1': 1, 'b-2': 2, 'b-3': 3, 'b-50': 50 },
  C: { 'c-4': 4, 'c-5': 5, 'c-60': 60 },
  D: { 'd-0': 0 },
};

describe('a federated search answers one page: the best `limit` across registries by the guide\'s score (A peers with B and C; D stands alone)', () => {
  let net: Awaited<ReturnType<typeof federationNet>>;
  let reg: Record<string, NetRegistry>;
  const twiceAB = Identity.generate();
  const twiceBC = Identity.generate();
  const agents: Agent[] = [];

  beforeAll(async () => {
    net = await federationNet(['A', 'B', 'C', 'D'], [['A', 'B'], ['A', 'C']]);
    reg = net.reg;
    for (const [r, listings] of Object.entries(PRICES)) {
      for (const [name, price] of Object.entries(listings)) await listing(reg[r]!.url, name, 'rank', price);
    }
    // One agent known to A (expensive there) and B (cheap there); one known to B and C.
    await listing(reg.A!.url, 'twice-ab', 'dup', 80, twiceAB);
    await listing(reg.B!.url, 'twice-ab', 'dup', 1, twiceAB);
    await listing(reg.B!.url, 'twice-bc', 'dup', 30, twiceBC);
    await listing(reg.C!.url, 'twice-bc', 'dup', 2, twiceBC);
    await until(
      'A mirrors B and C',
      async () =>
        (await federatedSearch(reg.A!.url, 'capability=rank')).total === 9 &&
        (await federatedSearch(reg.A!.url, 'capability=dup')).registries.map((r) => r.total).join() === '1,2,1',
    );
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.shutdown()));
    await net?.close();
  });

  it('holds the best `limit` matches of A and its mirrors, best first, each with its score; `count` is a registry\'s agents on the page, `total` its matches', async () => {
    const page = await federatedSearch(reg.A!.url, 'capability=rank&maxPrice=100&limit=4');
    expect(page).toMatchObject({ status: 200, success: true, total: 9, nextCursor: null });
    expect(names(page)).toEqual(['b-1', 'b-2', 'b-3', 'c-4']);
    const scores = page.agents.map((a) => a.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    // 0.4 x reputation + 0.3 x (1 - 1/100) + 0.2 x availability, the reputation a new agent has.
    expect(page.agents[0]!.score).toBeCloseTo(page.agents[1]!.score + 0.003, 6);
    expect(page.registries.map((r) => [r.id, r.count, r.total])).toEqual([
      [reg.A!.identity.id, 0, 2],
      [reg.B!.identity.id, 3, 4],
      [reg.C!.identity.id, 1, 3],
    ]);
    // The default page is a single registry's: 50.
    expect((await federatedSearch(reg.A!.url, 'capability=rank&maxPrice=100')).agents).toHaveLength(9);
  });

  it('ranks with the weights, maxPrice and service the query gives', async () => {
    // No weight on price, a big primary bonus: A's own first (tied: by id, which is random here), then any other.
    const primaryFirst = await federatedSearch(reg.A!.url, 'capability=rank&limit=3&weightPrice=0&weightPrimary=1');
    expect(names(primaryFirst).slice(0, 2).sort()).toEqual(['a-90', 'a-95']);
    expect(names(primaryFirst)[2]).toMatch(/^[bc]-/);
    // Price counted against a scoreMaxPrice of 10: everything over 10 is as dear as 10, so A's bonus beats b-50 and c-60.
    const dear = await federatedSearch(reg.A!.url, 'capability=rank&scoreMaxPrice=10');
    expect(names(dear).slice(0, 5)).toEqual(['b-1', 'b-2', 'b-3', 'c-4', 'c-5']);
    expect(names(dear).slice(5, 7).sort()).toEqual(['a-90', 'a-95']);
    expect(names(dear).slice(7).sort()).toEqual(['b-50', 'c-60']);
    // A service nobody lists: no price counts, so only the primary bonus tells them apart.
    const unpriced = await federatedSearch(reg.A!.url, 'capability=rank&limit=2&service=other');
    expect(names(unpriced).sort()).toEqual(['a-90', 'a-95']);
  });

  it('refuses bad score parameters with INVALID_INPUT naming the field, changing nothing', async () => {
    for (const [query, field] of [
      ['weightPrice=-1', '/weightPrice'],
      ['weightReputation=1001', '/weightReputation'],
      ['weightAvailability=abc', '/weightAvailability'],
      ['weightPrimary=', '/weightPrimary'],
      ['scoreMaxPrice=0', '/scoreMaxPrice'],
      ['service=', '/service'],
      ['cursor=abc', '/cursor'],
    ] as const) {
      const body = await federatedSearch(reg.A!.url, `capability=rank&${query}`);
      expect({ query, status: body.status, code: body.error?.code }).toEqual({ query, status: 400, code: 'INVALID_INPUT' });
      expect(body.error!.message).toContain(field);
    }
    expect((await federatedSearch(reg.A!.url, 'capability=rank')).total).toBe(9);
  });

  it('an agent several registries list is one result: the primary\'s record when it has one, every registry listed', async () => {
    const page = await federatedSearch(reg.A!.url, 'capability=dup&maxPrice=100');
    expect(page.total).toBe(2);
    const ab = page.agents.find((a) => a.id === twiceAB.id)!;
    const bc = page.agents.find((a) => a.id === twiceBC.id)!;
    // A's record (price 80), with the bonus, not B's cheaper one.
    expect(ab).toMatchObject({ registry: reg.A!.identity.id, registries: [reg.A!.identity.id, reg.B!.identity.id] });
    expect(ab.services[0]!.price).toBe(80);
    // Neither is A's: the first peer in A's configured order (B) is credited.
    expect(bc).toMatchObject({ registry: reg.B!.identity.id, registries: [reg.B!.identity.id, reg.C!.identity.id] });
    expect(page.registries.map((r) => [r.count, r.total])).toEqual([
      [1, 1],
      [2, 2],
      [1, 1],
    ]);
  });

  it("a client asks for the page it needs, merges a registry it asks directly, and re-ranks: searchAll's limit, findService's small page", async () => {
    const client = new Agent({ name: 'client', registryUrl: reg.A!.url, identity: Identity.generate(), logger: quiet });
    agents.push(client);
    const fed = client.use(federation({ registries: [reg.B!.url, reg.C!.url, reg.D!.url] }));
    await client.start();
    const page = await fed.searchAll('rank', { maxPrice: 100, limit: 4 });
    expect(page.results.map((r) => r.agent.name)).toEqual(['d-0', 'b-1', 'b-2', 'b-3']);
    expect(Object.fromEntries(page.registries.map((r) => [r.url, [r.via, r.count]]))).toEqual({
      [reg.A!.url]: ['mirror', 0],
      [reg.B!.url]: ['mirror', 3],
      [reg.C!.url]: ['mirror', 1],
      [reg.D!.url]: ['direct', 1],
    });
    expect((await fed.findService('rank', { maxPrice: 100 }))?.agent.name).toBe('d-0');
    // The client's weights travel to the primary: with the bonus heavy and price free, A's own come first.
    const loyal = new Agent({ name: 'loyal', registryUrl: reg.A!.url, identity: Identity.generate(), logger: quiet });
    agents.push(loyal);
    const fedLoyal = loyal.use(federation({ registries: [reg.B!.url, reg.C!.url], weights: { price: 0, primary: 1 } }));
    await loyal.start();
    const mine = await fedLoyal.searchAll('rank', { limit: 2 });
    expect(mine.results.map((r) => [r.agent.name, r.registry]).sort()).toEqual([
      ['a-90', reg.A!.url],
      ['a-95', reg.A!.url],
    ]);
    expect(mine.registries.every((r) => r.via === 'mirror')).toBe(true);
    // The dedupe holds on the client too: the agent A and B list is one match, credited to A.
    const dup = await fed.searchAll('dup', { maxPrice: 100 });
    expect(dup.results.map((r) => [r.agent.id, r.registry, r.registries])).toEqual(
      expect.arrayContaining([
        [twiceAB.id, reg.A!.url, [reg.A!.url, reg.B!.url]],
        [twiceBC.id, reg.B!.url, [reg.B!.url, reg.C!.url]],
      ]),
    );
    expect(dup.results).toHaveLength(2);
  });
});
