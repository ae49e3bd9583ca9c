import { bodyRefusals, framingRefusals, parseResponse, rawExchange, type RawRefusalCase } from '@sov/tooling/raw-http';
import { Agent } from './agent';
import { createLogger } from './logger';

const wireShape = (code: string) => ({ success: false, error: { code, message: expect.any(String) as unknown } });

describe("the agent endpoint's refusals speak the wire format", () => {
  let agent: Agent;
  let port: number;
  beforeAll(async () => {
    agent = new Agent({ name: 'wire', logger: createLogger({ silent: true }) });
    agent.handle((req) => ({ result: req.params }));
    agent.use({
      name: 'param-route',
      api: undefined,
      initialize: (ctx) => ctx.endpoint.addRoute({ method: 'GET', url: '/items/:id', signed: false, handler: () => ({ body: { success: true } }) }),
    });
    await agent.start();
    port = Number(new URL(agent.url!).port);
  });
  afterAll(async () => {
    await agent.shutdown();
  });

  const rpc = (body: string, extra = '') =>
    `POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;

  const cases: RawRefusalCase[] = [
    ...framingRefusals({ get: '/health', post: '/rpc', param: '/items/' }),
    ...bodyRefusals('/rpc'),
    { name: 'a body over the size limit', request: rpc(`"${'a'.repeat(1024 * 1024 + 10)}"`), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  ];

  it.each(cases)('answers $name with $status $code, and keeps serving', async ({ request, status, code }) => {
    const response = parseResponse(await rawExchange(port, request));
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual(wireShape(code));
    const after = parseResponse(await rawExchange(port, rpc(JSON.stringify({ service: 'echo', params: { ok: 1 } }))));
    expect(after).toMatchObject({ status: 200, body: { success: true, result: { ok: 1 } } });
  });

  it('closes the connection after a refusal written on the raw socket', async () => {
    const raw = await rawExchange(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(parseResponse(raw).headers.connection).toBe('close');
  });

  it('refuses a body nested deeper than maxJsonDepth with INVALID_INPUT naming the path, before the handler runs', async () => {
    const deep = `{"service":"echo","params":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const response = parseResponse(await rawExchange(port, rpc(deep)));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      success: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/^Invalid request body: \/params(\/a)+ is nested deeper than 64 levels$/) as unknown },
    });
    const shallow = `{"service":"echo","params":${'{"a":'.repeat(60)}1${'}'.repeat(60)}}`;
    expect(parseResponse(await rawExchange(port, rpc(shallow))).status).toBe(200);
  });
});
