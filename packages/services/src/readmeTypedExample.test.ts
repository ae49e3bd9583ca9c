/** The README's "Types that follow the schemas" example, run between two agents (the caller calls by URL instead of a registry query). */
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { z } from 'zod';
import { defineService, serviceClient, serviceRouter } from './index';

it('the README typed-services example runs: JSON Schema and zod services, a typed client', async () => {
  const logger = createLogger({ silent: true });
  const translateText = async (text: string, to: 'en' | 'fr') => `${to}:${text}`;
  const lookUpPrice = async (symbol: string, currency: 'USD' | 'EUR') => (currency === 'USD' ? symbol.length : symbol.length * 2);

  const agent = new Agent({ name: 'market', identity: Identity.generate(), logger });
  const services = agent.use(serviceRouter());

  services.register({
    name: 'translate',
    inputSchema: { type: 'object', properties: { text: { type: 'string' }, to: { enum: ['en', 'fr'] } }, required: ['text', 'to'] } as const,
    outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as const,
    handler: async ({ text, to }) => ({ text: await translateText(text, to) }),
  });

  const quote = defineService({
    name: 'quote',
    inputSchema: z.object({ symbol: z.string().toUpperCase(), currency: z.enum(['USD', 'EUR']).default('USD') }),
    outputSchema: z.object({ symbol: z.string(), price: z.number() }),
  });
  services.register({
    ...quote,
    handler: async ({ symbol, currency }) => ({ symbol, price: await lookUpPrice(symbol, currency) }),
  });
  await agent.start();

  const caller = new Agent({ name: 'trader', identity: Identity.generate(), logger });
  await caller.start();
  try {
    const quotes = serviceClient(caller, quote);
    await expect(quotes.call(agent.url!, { symbol: 'acme' })).resolves.toEqual({ symbol: 'ACME', price: 4 });
    await expect(quotes.call(agent.url!, { symbol: 'acme', currency: 'EUR' })).resolves.toEqual({ symbol: 'ACME', price: 8 });
    await expect(caller.call(agent.url!, 'translate', { text: 'hi', to: 'fr' })).resolves.toEqual({ text: 'fr:hi' });
    await expect(caller.call(agent.url!, 'translate', { text: 'hi', to: 'de' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // The catalog lists zod's own JSON Schema for the quote service.
    const catalog = services.getServiceCatalog().find((s) => s.name === 'quote');
    expect(catalog?.inputSchema).toMatchObject({ type: 'object', properties: { symbol: { type: 'string' }, currency: { enum: ['USD', 'EUR'] } }, required: ['symbol'] });
  } finally {
    await caller.shutdown();
    await agent.shutdown();
  }
});
