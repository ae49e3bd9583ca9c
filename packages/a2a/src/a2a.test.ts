import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, createLogger, type SovError } from '@sov/core';
import { waitFor } from '@sov/core/internal';
import { Identity } from '@sov/crypto';
import { serviceRouter, type ServiceContext } from '@sov/services';
import { a2a, type A2aApi } from './a2a';
import { A2aClient, partsValue } from './a2aClient';
import type { A2aClientEvent } from './a2aClient';
import { canonicalCard } from './canonicalCard';
import type { A2aAgentCard } from './a2aWire';

function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { open, wait };
}

describe('a2a options', () => {
  it('refuses a capability without services, a path that is not one, and bad task limits', () => {
    expect(() => a2a(undefined as never)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
    const services = serviceRouter().api;
    expect(() => a2a({ services, path: 'a2a' })).toThrow(/path/);
    expect(() => a2a({ services, maxTasks: 0 })).toThrow(/maxTasks/);
    expect(() => a2a({ services, taskRetentionMs: -1 })).toThrow(/taskRetentionMs/);
  });

  it('the card exists once the agent listens', () => {
    expect(() => a2a({ services: serviceRouter().api }).api.card()).toThrow(expect.objectContaining({ code: 'LIFECYCLE' }) as Error);
  });
});

describe('canonicalCard', () => {
  it('is the same for the same card whatever its key order, without signatures or empty values', () => {
    const card = { name: 'a', description: 'd', version: '1', supportedInterfaces: [{ url: 'http://x/a2a', protocolBinding: 'JSONRPC' }], capabilities: {}, defaultInputModes: [], defaultOutputModes: ['text/plain'], skills: [] } as A2aAgentCard;
    const reordered = { skills: [], defaultOutputModes: ['text/plain'], version: '1', name: 'a', description: 'd', supportedInterfaces: [{ protocolBinding: 'JSONRPC', url: 'http://x/a2a' }], defaultInputModes: [], capabilities: {}, signatures: [{ protected: 'p', signature: 's' }] } as A2aAgentCard;
    expect(canonicalCard(card)).toBe(canonicalCard(reordered));
    expect(canonicalCard(card)).toBe('{"defaultOutputModes":["text/plain"],"description":"d","name":"a","supportedInterfaces":[{"protocolBinding":"JSONRPC","url":"http://x/a2a"}],"version":"1"}');
  });
});

describe('an agent with a2a, called with our A2aClient', () => {
  const owner = Identity.generate();
  const other = Identity.generate();
  let agent: Agent;
  let api: A2aApi;
  let release = gate();
  let running = 0;

  beforeAll(async () => {
    agent = new Agent({ name: 'worker', port: 0, host: '127.0.0.1', allowAnonymous: true, identity: Identity.generate(), logger: createLogger({ silent: true }), shutdownTimeoutMs: 2000 });
    const services = agent.use(serviceRouter());
    services.register({ name: 'echo', handler: (p: unknown) => p });
    services.register({
      name: 'job',
      handler: async (_p: unknown, ctx: ServiceContext) => {
        running++;
        api.progress(ctx.requestId, { message: 'half way', percent: 50, data: { stage: 'mixing' } });
        try {
          await Promise.race([release.wait, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))]);
        } finally {
          running--;
        }
        return { finished: true };
      },
    });
    api = agent.use(a2a({ services, taskServices: ['job'], maxTasks: 3, signCard: false, client: { pollIntervalMs: 10 } }));
    await agent.start();
  });
  afterAll(async () => {
    release.open();
    await agent.shutdown();
  });
  beforeEach(() => {
    release = gate();
  });

  it('publishes no signature when signCard is false, and its own registration names the card', () => {
    expect(api.card().signatures).toBeUndefined();
    expect(api.cardUrl).toBe(`${agent.url}/.well-known/agent-card.json`);
  });

  it('progress is false for a request that is not a running A2A task', () => {
    expect(api.progress('no-such-request', { percent: 1 })).toBe(false);
  });

  it('calls a service (a message) and a task service (waited for) through the client', async () => {
    const client = new A2aClient({ pollIntervalMs: 10 });
    try {
      await expect(client.call(api.cardUrl!, 'echo', { a: [1, 2] })).resolves.toEqual({ a: [1, 2] });
      const done = client.call(api.cardUrl!, 'job', {});
      await waitFor('the job runs', () => running === 1, { timeoutMs: 10_000 });
      release.open();
      await expect(done).resolves.toEqual({ finished: true });
    } finally {
      await client.close();
    }
  });

  it('streams a task with its progress; the text, percent and data of a report reach the client', async () => {
    const client = new A2aClient();
    const events: A2aClientEvent[] = [];
    try {
      for await (const event of client.stream(api.cardUrl!, 'job', {})) {
        events.push(event);
        if ('statusUpdate' in event && event.statusUpdate.status.message) release.open();
      }
    } finally {
      await client.close();
    }
    const report = events.find((e) => 'statusUpdate' in e && e.statusUpdate.status.message) as { statusUpdate: { status: { message: { parts: Array<{ text?: string; data?: unknown }> } } } };
    expect(report.statusUpdate.status.message.parts).toEqual([{ text: 'half way' }, { data: { percent: 50, data: { stage: 'mixing' } }, mediaType: 'application/json' }]);
    const last = events.at(-1) as { statusUpdate: { status: { state: string } } };
    expect(last.statusUpdate.status.state).toBe('TASK_STATE_COMPLETED');
  });

  it('a signed caller\'s task is its own: another caller gets NOT_FOUND for it, and cannot cancel it', async () => {
    const mine = new A2aClient({ signer: owner.signer });
    const theirs = new A2aClient({ signer: other.signer });
    try {
      const reply = await mine.send(api.cardUrl!, { message: { messageId: 'm1', role: 'ROLE_USER', parts: [{ data: {} }], metadata: { skill: 'job' } }, configuration: { returnImmediately: true } });
      const task = (reply as { task: { id: string } }).task;
      await expect(mine.getTask(api.cardUrl!, task.id)).resolves.toMatchObject({ id: task.id });
      await expect(theirs.getTask(api.cardUrl!, task.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(theirs.cancelTask(api.cardUrl!, task.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(mine.cancelTask(api.cardUrl!, task.id)).resolves.toMatchObject({ status: { state: 'TASK_STATE_CANCELED' } });
      await expect(mine.cancelTask(api.cardUrl!, task.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    } finally {
      await mine.close();
      await theirs.close();
    }
  });

  it('refuses a task past maxTasks running with TOO_MANY_IN_FLIGHT, and changes nothing', async () => {
    const client = new A2aClient();
    const send = () => client.send(api.cardUrl!, { message: { messageId: 'm', role: 'ROLE_USER', parts: [{ data: {} }], metadata: { skill: 'job' } }, configuration: { returnImmediately: true } });
    try {
      await waitFor('earlier jobs are done', () => running === 0, { timeoutMs: 10_000 });
      const started = [];
      for (let i = 0; i < 3; i++) started.push(await send());
      const refused = (await send().catch((e: unknown) => e)) as SovError;
      expect(refused.code).toBe('TOO_MANY_IN_FLIGHT');
      await waitFor('the three jobs run', () => running === 3, { timeoutMs: 10_000 });
      release.open();
      await waitFor('the jobs finish', () => running === 0, { timeoutMs: 10_000 });
      // Finished tasks make room.
      await expect(send()).resolves.toHaveProperty('task');
      release.open();
    } finally {
      await client.close();
    }
  });
});

describe('A2aClient refusals', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/.well-known/agent-card.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'x', supportedInterfaces: [{ url: `${base}/rpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }], skills: [] }));
      } else if (req.url === '/nojsonrpc/.well-known/agent-card.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'x', supportedInterfaces: [{ url: `${base}/grpc`, protocolBinding: 'GRPC' }], skills: [] }));
      } else if (req.url === '/rpc') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { message: { parts: [{ text: 'x'.repeat(5000) }] } } }));
      } else res.writeHead(404).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses bad options and bad card URLs before sending anything', async () => {
    expect(() => new A2aClient({ timeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
    const client = new A2aClient();
    try {
      await expect(client.card('not a url')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(client.card('ftp://127.0.0.1/card')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(client.call(`${base}/.well-known/agent-card.json`, 's', {}, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    } finally {
      await client.close();
    }
  });

  it('a card without a JSONRPC interface, a missing card and a reply past the cap are refused with their codes', async () => {
    const client = new A2aClient({ maxResponseBytes: 1000 });
    try {
      await expect(client.card(`${base}/nojsonrpc/.well-known/agent-card.json`)).rejects.toMatchObject({ code: 'REMOTE_ERROR' });
      await expect(client.card(`${base}/missing/.well-known/agent-card.json`)).rejects.toMatchObject({ code: 'REMOTE_ERROR' });
      await expect(client.call(`${base}/.well-known/agent-card.json`, 's', {})).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    } finally {
      await client.close();
    }
  });

  it('partsValue reads the first data part, else the texts joined', () => {
    expect(partsValue([{ text: 'a' }, { data: { b: 1 } }])).toEqual({ b: 1 });
    expect(partsValue([{ text: 'a' }, { text: 'b' }])).toBe('ab');
    expect(partsValue([])).toBeUndefined();
  });
});

describe('shutdown', () => {
  it('gives running tasks half the shutdown budget, then aborts them: handlers see SHUTTING_DOWN, a streaming client gets the failed task before connections close', async () => {
    const agent = new Agent({ name: 'stopping', port: 0, host: '127.0.0.1', allowAnonymous: true, logger: createLogger({ silent: true }), shutdownTimeoutMs: 2000 });
    const services = agent.use(serviceRouter());
    let reason: unknown;
    services.register({
      name: 'forever',
      timeoutMs: 0,
      handler: (_p: unknown, ctx: ServiceContext) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(ctx.signal.reason as Error);
          }),
        ),
    });
    const api = agent.use(a2a({ services, taskServices: ['forever'] }));
    await agent.start();
    const client = new A2aClient({ timeoutMs: 10_000 });
    const states: string[] = [];
    let failure: unknown;
    const streaming = (async () => {
      for await (const event of client.stream(api.cardUrl!, 'forever', {})) {
        if ('statusUpdate' in event) {
          states.push(event.statusUpdate.status.state);
          failure = partsValue(event.statusUpdate.status.message?.parts);
        }
      }
    })();
    await waitFor('the task works', () => states.includes('TASK_STATE_WORKING'), { timeoutMs: 10_000 });
    await agent.shutdown();
    await streaming.catch(() => undefined);
    await client.close();
    expect((reason as SovError).code).toBe('SHUTTING_DOWN');
    expect(states.at(-1)).toBe('TASK_STATE_FAILED');
    expect(failure).toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
