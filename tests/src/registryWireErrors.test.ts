import { connect } from 'node:net';
import { createLogger } from '@sov/core';
import { RegistryServer } from '@sov/registry';

/** Sends raw bytes and resolves with everything the server wrote before it closed. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.end(bytes);
  });
}

/** The status, headers (lower-cased) and parsed JSON body of the first response in `raw`. */
function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: unknown } {
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const text = raw.slice(split + 4, split + 4 + Number(headers['content-length']));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(text) as unknown };
}

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
