import { createLogger } from '@sov/core';
import { RegistryServer } from '@sov/registry';
import { bodyRefusals, framingRefusals, parseResponse, rawExchange, type RawRefusalCase } from '@sov/tooling/raw-http';

describe("the registry's refusals speak the wire format, before routing too", () => {
  let registry: RegistryServer;
  let port: number;
  beforeAll(async () => {
    registry = await RegistryServer.start({ logger: createLogger({ silent: true }), insecure: true });
    port = Number(new URL(registry.url).port);
  });
  afterAll(() => registry.close());

  const cases: RawRefusalCase[] = [
    ...framingRefusals({ get: '/v1/agents', post: '/v1/agents', param: '/v1/agents/' }),
    ...bodyRefusals('/v1/agents'),
    {
      name: 'a body over the size limit',
      request: `POST /v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n"${'a'.repeat(69_998)}"`,
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
  ];

  it.each(cases)('answers $name with $status $code, and keeps serving', async ({ request, status, code }) => {
    const response = parseResponse(await rawExchange(port, request));
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ success: false, error: { code, message: expect.any(String) as unknown } });
    const after = parseResponse(await rawExchange(port, 'GET /v1/agents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(after).toMatchObject({ status: 200, body: { success: true } });
  });
});
