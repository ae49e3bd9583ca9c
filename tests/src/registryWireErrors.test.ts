import { createLogger } from '@sov/core';
import { RegistryServer } from '@sov/registry';
import { parseResponse, rawExchange } from '@sov/tooling/raw-http';

describe("the registry's refusals speak the wire format, before routing too", () => {
  let registry: RegistryServer;
  let port: number;
  beforeAll(async () => {
    registry = await RegistryServer.start({ logger: createLogger({ silent: true }), insecure: true });
    port = Number(new URL(registry.url).port);
  });
  afterAll(() => registry.close());

  const cases: Array<{ name: string; request: string; status: number; code: string }> = [
    { name: 'a bad percent-encoding in the URL', request: 'GET /v1/agents/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 400, code: 'MALFORMED_REQUEST' },
    { name: 'an over-long agent id', request: `GET /v1/agents/${'a'.repeat(500)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, status: 414, code: 'URI_TOO_LONG' },
    { name: 'over-large headers', request: `GET /v1/agents HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, code: 'HEADERS_TOO_LARGE' },
    {
      name: 'Content-Length with Transfer-Encoding',
      request: 'POST /v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'a bad chunk size',
      request: 'POST /v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n',
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    { name: 'a missing Host header', request: 'GET /v1/agents HTTP/1.1\r\nConnection: close\r\n\r\n', status: 400, code: 'MALFORMED_REQUEST' },
    { name: 'an unknown route', request: 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 404, code: 'ROUTE_NOT_FOUND' },
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
