/** The README's "Cached calls" example, as written there (with a silent logger and a price table). */
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { callCache, serviceRouter } from './index';

it('the README cached-calls example runs: a hit from memory, the opt-out goes to the callee', async () => {
  const logger = createLogger({ silent: true });
  let lookups = 0;
  const lookUpPrice = async (symbol: string) => {
    lookups++;
    return symbol.length * 10;
  };

  // The callee: an answer that depends only on the params, fresh for 5 minutes (the guide's ttl=300).
  const prices = new Agent({ name: 'prices', identity: Identity.generate(), logger });
  prices.use(serviceRouter()).register<{ symbol: string }, { symbol: string; price: number }>({
    name: 'quote',
    inputSchema: { type: 'object', properties: { symbol: { type: 'string' } }, required: ['symbol'] },
    cache: { ttlMs: 300_000 },
    handler: async ({ symbol }) => ({ symbol, price: await lookUpPrice(symbol) }),
  });
  await prices.start();

  // The caller: the guide's PerformantAgent with its request cache (maxsize=1000).
  const trader = new Agent({ name: 'trader', identity: Identity.generate(), logger });
  const cache = trader.use(callCache({ maxEntries: 1000, maxBytes: 4 * 1024 * 1024 }));
  await trader.start();

  try {
    await expect(trader.call(prices.url!, 'quote', { symbol: 'ACME' })).resolves.toEqual({ symbol: 'ACME', price: 40 }); // a round trip
    await expect(trader.call(prices.url!, 'quote', { symbol: 'ACME' })).resolves.toEqual({ symbol: 'ACME', price: 40 }); // from memory while fresh
    await cache.bypass(() => trader.call(prices.url!, 'quote', { symbol: 'ACME' })); // the opt-out: a round trip
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, bypassed: 1, joined: 0, evictions: 0, entries: 1 });
    // The bypassed call asked the callee for a fresh answer too: the price was looked up again.
    expect(lookups).toBe(2);
  } finally {
    await trader.shutdown();
    await prices.shutdown();
  }
});
