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
