/**
 * Raw HTTP/1.1 on a loopback socket, for the tests that check what a server
 * answers to bytes no HTTP client would send (bad framing, a bad URL, huge
 * headers), as tests/src/registryWireErrors.test.ts does for the registry.
 * Test-only, and here rather than in @sov/testing so that core's own tests
 * (which cannot depend on @sov/testing, a dependant of core) share it too:
 * packages/core/src/wireErrorServer.test.ts.
 */
import { connect } from 'node:net';

/** Sends raw bytes to 127.0.0.1:port and resolves with everything the server wrote before it closed. */
export function rawExchange(port: number, bytes: string): Promise<string> {
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
export function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: unknown } {
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

/** A request no HTTP client would send, and the wire refusal a server of ours must answer it with. */
export interface RawRefusalCase {
  name: string;
  request: string;
  status: number;
  code: string;
}

/**
 * The framing refusals every HTTP server of the SDK (the agent endpoint, the
 * registry) answers alike, aimed at its routes: `get` is a GET route with no
 * parameter, `post` a POST route that takes a JSON body, `param` a GET route
 * ending in one path parameter (given without it, ending in '/').
 */
export function framingRefusals(routes: { get: string; post: string; param: string }): RawRefusalCase[] {
  const { get, post, param } = routes;
  return [
    { name: 'a bad percent-encoding in the URL', request: `GET ${param}%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, status: 400, code: 'MALFORMED_REQUEST' },
    { name: 'an over-long path parameter', request: `GET ${param}${'a'.repeat(500)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, status: 414, code: 'URI_TOO_LONG' },
    { name: 'over-large headers', request: `GET ${get} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, code: 'HEADERS_TOO_LARGE' },
    {
      name: 'Content-Length with Transfer-Encoding',
      request: `POST ${post} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'a bad chunk size',
      request: `POST ${post} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    { name: 'a missing Host header', request: `GET ${get} HTTP/1.1\r\nConnection: close\r\n\r\n`, status: 400, code: 'MALFORMED_REQUEST' },
    { name: 'a request line that is not HTTP', request: 'HELLO\r\n\r\n', status: 400, code: 'MALFORMED_REQUEST' },
    { name: 'an unknown route', request: 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 404, code: 'ROUTE_NOT_FOUND' },
  ];
}

/**
 * The body refusals every HTTP server of the SDK answers alike at a POST route
 * that takes JSON: a body of another media type, malformed JSON, and an
 * Expect header it cannot meet (the size limit differs by server: add it).
 */
export function bodyRefusals(post: string): RawRefusalCase[] {
  const json = (body: string, extra = '') =>
    `POST ${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;
  return [
    {
      name: 'a body that is not JSON',
      request: `POST ${post} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    { name: 'malformed JSON', request: json('{"service":'), status: 400, code: 'INVALID_JSON' },
    { name: 'an Expect header it cannot meet', request: json('{}', 'Expect: nonsense\r\n'), status: 417, code: 'EXPECTATION_FAILED' },
  ];
}
