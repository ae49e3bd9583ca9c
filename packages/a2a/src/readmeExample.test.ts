/** The README's example, as written there (with a silent logger). */
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { a2a } from './index';

it('the README example runs: an agent with a2a, called by its card URL from another agent', async () => {
  const logger = createLogger({ silent: true });
  const agent = new Agent({ name: 'texter', identity: Identity.generate(), allowAnonymous: true, port: 0, logger });
  const services = agent.use(serviceRouter());
  services.register<{ text: string }, { text: string }>({
    name: 'uppercase',
    description: 'Upper-cases a text',
    inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    price: 1,
    handler: ({ text }) => ({ text: text.toUpperCase() }),
  });
  const texter = agent.use(a2a({ services }));
  await agent.start();

  const caller = new Agent({ name: 'caller', identity: Identity.generate(), port: 0, logger });
  caller.use(a2a({ services: caller.use(serviceRouter()) }));
  await caller.start();
  const reply = await caller.call<{ text: string }>(texter.cardUrl!, 'uppercase', { text: 'hi' });
  expect(reply.text).toBe('HI');
  await caller.shutdown();
  await agent.shutdown();
});
