import { Agent } from './agent';
import { createLogger } from './logger';

const quiet = createLogger({ silent: true });

describe('target resolvers (how a capability answers agent.call queries)', () => {
  const servers: Agent[] = [];
  afterAll(() => Promise.all(servers.map((a) => a.shutdown())));

  async function server(name: string): Promise<Agent> {
    const a = new Agent({ name, agentId: name, logger: quiet, allowAnonymous: true });
    a.handle(() => ({ result: { servedBy: name } }));
    await a.start();
    servers.push(a);
    return a;
  }

  it('a resolver that answers decides where a query goes; the caller itself is never a candidate', async () => {
    const b = await server('b');
    const seen: unknown[] = [];
    const caller = new Agent({ name: 'caller', agentId: 'caller', logger: quiet });
    caller.use({
      name: 'resolver',
      api: undefined,
      initialize: (ctx) =>
        ctx.addTargetResolver((query, service, limit) => {
          seen.push({ query, service, limit });
          return Promise.resolve([{ id: 'caller', endpoint: 'http://127.0.0.1:1' }, { id: 'b', endpoint: b.url! }]);
        }),
    });
    await caller.start();
    await expect(caller.call({ capability: 'x', federated: true }, 'svc', {})).resolves.toEqual({ servedBy: 'b' });
    expect(seen).toEqual([{ query: { capability: 'x', federated: true }, service: 'svc', limit: 3 }]);
    await caller.shutdown();
  });

  it('a resolver answering undefined leaves the query to the next one; an empty answer is NOT_FOUND', async () => {
    const c = await server('c');
    const caller = new Agent({ name: 'caller2', agentId: 'caller2', logger: quiet });
    caller.use({ name: 'pass', api: undefined, initialize: (ctx) => ctx.addTargetResolver(() => Promise.resolve(undefined)) });
    caller.use({
      name: 'second',
      api: undefined,
      initialize: (ctx) => ctx.addTargetResolver((q) => Promise.resolve(q.capability === 'none' ? [] : [{ id: 'c', endpoint: c.url! }])),
    });
    await caller.start();
    await expect(caller.call({ capability: 'x' }, 'svc')).resolves.toEqual({ servedBy: 'c' });
    await expect(caller.call({ capability: 'none' }, 'svc')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('none') });
    await caller.shutdown();
  });

  it('fails over to the next candidate a resolver gave when one is unreachable', async () => {
    const d = await server('d');
    const caller = new Agent({ name: 'caller3', agentId: 'caller3', logger: quiet });
    caller.use({
      name: 'resolver',
      api: undefined,
      initialize: (ctx) =>
        ctx.addTargetResolver(() => Promise.resolve([{ id: 'gone', endpoint: 'http://127.0.0.1:9' }, { id: 'd', endpoint: d.url! }])),
    });
    await caller.start();
    await expect(caller.call({ capability: 'x' }, 'svc')).resolves.toEqual({ servedBy: 'd' });
    await caller.shutdown();
  });

  it('a federated query without a resolver is refused with INVALID_INPUT naming what is missing', async () => {
    const caller = new Agent({ name: 'caller4', agentId: 'caller4', logger: quiet });
    await caller.start();
    await expect(caller.call({ capability: 'x', federated: true }, 'svc')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('federation'),
    });
    await caller.shutdown();
  });
});
