/**
 * The servers of the A2A benchmark, one per process. Prints the bound port
 * on stdout. Both answer SendMessage for an `echo` skill with a message
 * whose data part is the request's data part. Modes:
 * - `ours`: an Agent (identity, anonymous calls allowed) with the service
 *   router (input and output schemas checked) and `a2a()`;
 * - `sdk`: the official @a2a-js/sdk server: express, `jsonRpcHandler`,
 *   `DefaultRequestHandler`, `InMemoryTaskStore` and an executor that echoes.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Role, type AgentCard, type Message } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { UserBuilder, agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import { a2aSdkCard } from '@sov/tooling/a2a-sdk-card';
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { a2a } from '../src/index';

const mode = process.argv[2];

async function ours(): Promise<number> {
  const agent = new Agent({ name: 'bench-a2a', identity: Identity.generate(), allowAnonymous: true, port: 0, host: '127.0.0.1', logger: createLogger({ silent: true }) });
  const services = agent.use(serviceRouter());
  services.register<{ text: string }, { text: string }>({
    name: 'echo',
    inputSchema: { type: 'object', properties: { text: { type: 'string', maxLength: 1000 } }, required: ['text'], additionalProperties: false },
    outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    handler: ({ text }) => ({ text }),
  });
  agent.use(a2a({ services }));
  await agent.start();
  return Number(new URL(agent.url!).port);
}

async function sdk(): Promise<number> {
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const card: AgentCard = a2aSdkCard({ name: 'bench-sdk', description: 'echo', url: `${url}/a2a`, skills: [{ id: 'echo', description: 'echo' }] });

  const executor: AgentExecutor = {
    execute: (ctx, bus) => {
      const message: Message = {
        messageId: `m-${ctx.taskId}`,
        contextId: ctx.contextId,
        taskId: '',
        role: Role.ROLE_AGENT,
        parts: ctx.userMessage.parts.filter((p) => p.content?.$case === 'data'),
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
      };
      bus.publish(AgentEvent.message(message));
      bus.finished();
      return Promise.resolve();
    },
    cancelTask: () => Promise.resolve(),
  };
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler }));
  app.use('/a2a', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return (server.address() as AddressInfo).port;
}

const port = await (mode === 'ours' ? ours() : sdk());
process.stdout.write(`${port}\n`);
