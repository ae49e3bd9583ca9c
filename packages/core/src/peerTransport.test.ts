import { Agent } from './agent';
import type { AgentContext, Capability } from './capability';
import { SovError } from './errors/sovError';
import { createLogger } from './logger';

const quiet = createLogger({ silent: true });

describe('peer transports and handleRequest (the hooks another protocol plugs into)', () => {
  let agent: Agent;
  let context: AgentContext | undefined;
  const seen: string[] = [];

  beforeAll(async () => {
    agent = new Agent({ name: 'hub', agentId: 'hub', logger: quiet });
    agent.handle((req) => ({ result: { echoed: req.params, service: req.service } }));
    const other: Capability = {
      name: 'other-protocol',
      api: undefined,
      initialize: (ctx) => {
        context = ctx;
        ctx.addPeerTransport({
          handles: (endpoint) => endpoint.startsWith('http://other.invalid/'),
          call: (call) => {
            seen.push(`transport ${call.endpoint} ${String(call.request.service)} ${String(call.timeoutMs)}`);
            if (call.request.service === 'fail') return Promise.reject(new SovError('UNAVAILABLE', 'down'));
            return Promise.resolve({ success: true, result: { via: 'transport', params: call.request.params } });
          },
        });
      },
    };
    const wrapper: Capability = {
      name: 'wrapper',
      api: undefined,
      initialize: (ctx) => ctx.wrapPeerCalls((next) => (call) => (seen.push(`wrapper ${call.endpoint}`), next(call))),
    };
    agent.use(other);
    agent.use(wrapper);
    await agent.start();
  });
  afterAll(() => agent.shutdown());
  beforeEach(() => {
    seen.length = 0;
  });

  it('agent.call to an endpoint a transport handles goes through every wrapper, then the transport', async () => {
    await expect(agent.call('http://other.invalid/card', 'svc', { a: 1 }, { timeoutMs: 1234 })).resolves.toEqual({ via: 'transport', params: { a: 1 } });
    expect(seen).toEqual(['wrapper http://other.invalid/card', 'transport http://other.invalid/card svc 1234']);
  });

  it('a transport failure rejects agent.call with its SovError', async () => {
    await expect(agent.call('http://other.invalid/card', 'fail')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('other endpoints still go to POST /rpc', async () => {
    await expect(agent.call(agent.url!, 'svc', { b: 2 })).resolves.toEqual({ echoed: { b: 2 }, service: 'svc' });
    expect(seen).toEqual([`wrapper ${agent.url!}`]);
  });

  it('handleRequest serves a request with the agent\'s request handler', async () => {
    const reply = await context!.handleRequest({ service: 's', params: 3 }, { requestId: 'r1', caller: undefined, signal: new AbortController().signal, logger: quiet });
    expect(reply.result).toEqual({ echoed: 3, service: 's' });
  });

  it('handleRequest rejects with SERVICE_NOT_FOUND when the agent has no handler', async () => {
    let ctx: AgentContext | undefined;
    const bare = new Agent({ name: 'bare', agentId: 'bare', logger: quiet });
    bare.use({ name: 'peek', api: undefined, initialize: (c) => void (ctx = c) });
    await bare.initialize();
    await expect(ctx!.handleRequest({ service: 's' }, { requestId: 'r', caller: undefined, signal: new AbortController().signal, logger: quiet })).rejects.toMatchObject({
      code: 'SERVICE_NOT_FOUND',
    });
    await bare.shutdown();
  });
});
