import { PassThrough } from 'node:stream';
import { Agent } from './agent';
import { SovError } from './errors/sovError';
import { createLogger } from './logger';
import { SESSION_PATH, type Verifier } from './ports';

const quiet = createLogger({ silent: true });

describe('the agent endpoint (node:http and its router)', () => {
  let agent: Agent;
  let seen: Array<{ params: Record<string, string>; query: unknown; path: string }> = [];
  beforeAll(async () => {
    agent = new Agent({ name: 'routes', logger: quiet });
    agent.use({
      name: 'routes',
      api: undefined,
      initialize: (ctx) => {
        ctx.endpoint.addRoute({
          method: 'GET',
          url: '/items/:id/parts/:part',
          signed: false,
          handler: (req) => {
            seen.push({ params: req.params, query: req.query, path: req.path });
            return { body: { success: true, id: req.params.id } };
          },
        });
        ctx.endpoint.addRoute({ method: 'GET', url: '/text', signed: false, handler: () => ({ body: 'plain words', headers: { 'x-extra': 'yes' } }) });
        ctx.endpoint.addRoute({
          method: 'GET',
          url: '/stream',
          signed: false,
          handler: () => {
            const out = new PassThrough();
            out.write('data: one\n\n');
            setTimeout(() => out.end('data: two\n\n'), 20);
            return { contentType: 'text/event-stream', body: out };
          },
        });
        ctx.endpoint.addRoute({ method: 'POST', url: '/refuse', signed: false, handler: () => Promise.reject(new SovError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 2500 } })) });
        ctx.endpoint.addRoute({ method: 'POST', url: '/boom', signed: false, handler: () => Promise.reject(new Error('a bug')) });
      },
    });
    await agent.start();
  });
  afterAll(() => agent.shutdown());
  beforeEach(() => {
    seen = [];
  });

  it('hands a route its decoded path parameters and query (repeated keys as arrays)', async () => {
    const res = await fetch(`${agent.url}/items/a%20b/parts/7?x=1&x=2&y=z`);
    expect(await res.json()).toEqual({ success: true, id: 'a b' });
    expect(seen).toEqual([{ params: { id: 'a b', part: '7' }, query: { x: ['1', '2'], y: 'z' }, path: '/items/a%20b/parts/7' }]);
  });

  it('answers HEAD like GET without a body, and sends text and its extra headers', async () => {
    const head = await fetch(`${agent.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const text = await fetch(`${agent.url}/text`);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.headers.get('x-extra')).toBe('yes');
    expect(await text.text()).toBe('plain words');
  });

  it('streams a readable reply body as it comes', async () => {
    const res = await fetch(`${agent.url}/stream`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('data: one\n\ndata: two\n\n');
  });

  it('answers a refusal in the wire format with its Retry-After, and a bug as INTERNAL without its message', async () => {
    const refused = await fetch(`${agent.url}/refuse`, { method: 'POST' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(await refused.json()).toMatchObject({ success: false, error: { code: 'RATE_LIMITED', message: 'slow down' } });
    const boom = await fetch(`${agent.url}/boom`, { method: 'POST' });
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ success: false, error: { code: 'INTERNAL', message: 'Internal error' } });
  });

  it('refuses a route added twice with CONFLICT, and a route added after it listens with LIFECYCLE', async () => {
    const twice = new Agent({ name: 'twice', logger: quiet });
    twice.use({
      name: 'twice',
      api: undefined,
      initialize: (ctx) => {
        ctx.endpoint.addRoute({ method: 'GET', url: '/a', handler: () => ({ body: {} }) });
        ctx.endpoint.addRoute({ method: 'GET', url: '/a', handler: () => ({ body: {} }) });
      },
    });
    await expect(twice.start()).rejects.toThrow(/Route GET \/a is already served/);
    let late: (() => void) | undefined;
    const later = new Agent({ name: 'later', logger: quiet });
    later.use({ name: 'late', api: undefined, initialize: (ctx) => void (late = () => ctx.endpoint.addRoute({ method: 'GET', url: '/b', handler: () => ({ body: {} }) })) });
    await later.start();
    expect(late).toThrow(expect.objectContaining({ code: 'LIFECYCLE' }) as Error);
    await later.shutdown();
  });

  it('counts a streamed reply as in flight until it ends: shutdown drains it before closing connections', async () => {
    const streamer = new Agent({ name: 'streamer', logger: quiet, shutdownTimeoutMs: 5000 });
    let out: PassThrough | undefined;
    streamer.use({
      name: 'sse',
      api: undefined,
      initialize: (ctx) =>
        ctx.endpoint.addRoute({
          method: 'GET',
          url: '/events',
          signed: false,
          handler: () => {
            out = new PassThrough();
            out.write('data: first\n\n');
            return { contentType: 'text/event-stream', body: out };
          },
        }),
    });
    await streamer.start();
    const res = await fetch(`${streamer.url!}/events`);
    const text = res.text();
    const stopping = streamer.shutdown();
    // The behaviour under test: 50 ms into the shutdown the open stream still runs.
    await new Promise((r) => setTimeout(r, 50));
    out!.end('data: last\n\n');
    await stopping;
    expect(await text).toBe('data: first\n\ndata: last\n\n');
  });

  it('serves no session route unless the verifier takes sessions', async () => {
    expect((await fetch(`${agent.url}${SESSION_PATH}`, { method: 'POST' })).status).toBe(404);
    const verifier: Verifier = { isSigned: () => true, verify: () => ({ id: 'caller', keyId: 'caller' }), acceptSession: (caller) => ({ session: { for: caller.id } }) };
    const withSessions = new Agent({ name: 'sessions', logger: quiet });
    withSessions.use({ name: 'v', api: undefined, initialize: (ctx) => ctx.endpoint.setVerifier(verifier) });
    await withSessions.start();
    const res = await fetch(`${withSessions.url!}${SESSION_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await res.json()).toEqual({ success: true, session: { for: 'caller' } });
    await withSessions.shutdown();
  });
});

describe('a caller that goes away mid-body', () => {
  it('leaves no request in flight: shutdown does not wait for it', async () => {
    const { connect } = await import('node:net');
    const agent = new Agent({ name: 'halfbody', logger: quiet, allowAnonymous: true, shutdownTimeoutMs: 10_000 });
    agent.handle(() => ({ result: 'never' }));
    await agent.start();
    const port = Number(new URL(agent.url!).port);
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"serv');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await agent.shutdown();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
