import { connect } from 'node:net';
import fc from 'fast-check';
import { Agent, isSovErrorCode } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { TestRegistry } from '@sov/testing';

// Bounded and seeded: the same inputs on every run, a fixed count, well under a minute on 2 cores.
const SEED = 20261202;
const RUNS = 400;

interface Answer {
  status: number;
  body: string;
}

/** Sends raw bytes over TCP and reads the first answer (the servers close or keep the connection; either is fine). */
function raw(port: number, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const finish = () => {
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const head = text.indexOf('\r\n\r\n');
      resolve({ status, body: head < 0 ? '' : text.slice(head + 4) });
    };
    const timer = setTimeout(finish, 2000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (head >= 0 && length !== undefined && text.length - head - 4 >= Number(length)) {
        clearTimeout(timer);
        finish();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      finish();
    });
    socket.write(bytes);
  });
}

/** The property: never a 5xx; every 4xx in the wire shape with an SDK code. Returns a message when it fails. */
function problem(answer: Answer): string | undefined {
  if (answer.status === 0) return undefined; // the server closed without answering a request it could not read
  if (answer.status >= 500) return `status ${answer.status}: ${answer.body.slice(0, 200)}`;
  if (answer.status < 400) return undefined;
  let parsed: { success?: unknown; error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    return `status ${answer.status} with a body that is not JSON: ${JSON.stringify(answer.body.slice(0, 200))}`;
  }
  if (parsed.success !== false || typeof parsed.error?.message !== 'string' || typeof parsed.error.code !== 'string') {
    return `status ${answer.status} not in the wire shape: ${answer.body.slice(0, 200)}`;
  }
  if (!isSovErrorCode(parsed.error.code)) return `unknown code ${parsed.error.code}`;
  return undefined;
}

const deepJson = fc.integer({ min: 1, max: 30_000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const jsonish = fc.oneof(
  fc.json(),
  fc.string({ maxLength: 200 }),
  deepJson,
  fc.constantFrom('{', '{"a":', '[1,2', 'nul', '{"service":"echo","params":{"text":1}}', '{"__proto__":{"x":1}}', '\u0000'),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ service: 'echo', params: v })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ id: 'x', name: 'x', endpoint: 'http://127.0.0.1:1', capabilities: ['c'], metadata: { v } })),
);
const path = fc.oneof(
  fc.constantFrom('/rpc', '/v1/agents', '/v1/agents/x/heartbeat', '/v1/feedback', '/v1/stakes/x/credit', '/v1/events', '/health', '/catalog'),
  fc.constantFrom('/%ZZ', '/%', '/v1/agents/%E0%A4%A', '/../../etc/passwd', '/v1/agents/' + 'a'.repeat(5000), '/rpc?x=%ZZ', '//', '/\u00e9'),
  fc.webPath(),
);
const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST'), weight: 6 },
  { arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'FOO'), weight: 1 },
);
const headerValue = fc.oneof(fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16', '', 'nonsense', '100-continue', 'x'.repeat(10_000)), fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')));
const extraHeaders = fc.array(
  fc.tuple(fc.constantFrom('content-type', 'signature', 'signature-input', 'content-digest', 'x-sov-receipt', 'x-sov-receiver', 'last-event-id', 'x-request-id', 'authorization', 'expect', 'transfer-encoding'), headerValue),
  { maxLength: 4 },
);
const request = fc.record({
  method,
  path,
  body: jsonish,
  headers: extraHeaders,
  framing: fc.oneof(
    { arbitrary: fc.constant('length'), weight: 8 },
    { arbitrary: fc.constantFrom('chunked', 'bad-chunk', 'both', 'no-host'), weight: 1 },
  ),
});

function bytesOf(r: { method: string; path: string; body: string; headers: Array<[string, string]>; framing: string }, port: number): Buffer {
  const body = Buffer.from(r.body);
  const lines = [`${r.method} ${r.path} HTTP/1.1`];
  if (r.framing !== 'no-host') lines.push(`Host: 127.0.0.1:${port}`);
  for (const [name, value] of r.headers) if (name !== 'transfer-encoding') lines.push(`${name}: ${value}`);
  if (r.framing === 'length') lines.push(`Content-Length: ${body.length}`);
  if (r.framing === 'both') lines.push(`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked');
  if (r.framing === 'chunked' || r.framing === 'bad-chunk') lines.push('Transfer-Encoding: chunked');
  lines.push('Connection: close', '', '');
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  if (r.framing === 'chunked' || r.framing === 'both') return Buffer.concat([head, Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  if (r.framing === 'bad-chunk') return Buffer.concat([head, Buffer.from('zz\r\n'), body, Buffer.from('\r\n0\r\n\r\n')]);
  return Buffer.concat([head, body]);
}

describe('fuzzing the registry and an agent endpoint', () => {
  let registry: TestRegistry;
  let agent: Agent;
  const search = async () => (await (await fetch(`${registry.url}/v1/agents?capability=echo`)).json()) as { total: number; agents: Array<{ id: string; reputation: number }> };

  beforeAll(async () => {
    registry = await TestRegistry.start();
    agent = new Agent({ name: 'fuzzed', registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error' });
    agent.use(serviceRouter()).register({
      name: 'echo',
      inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 100 } }, additionalProperties: false },
      handler: (p: { text: string }) => p,
    });
    await agent.start();
  });
  afterAll(async () => {
    await agent.shutdown();
    await registry.stop();
  });

  it('answers every malformed request with a 4xx in the wire shape, never a 5xx, and changes nothing', async () => {
    const before = await search();
    const targets = [Number(new URL(registry.url).port), Number(new URL(agent.url!).port)];
    await fc.assert(
      fc.asyncProperty(request, fc.integer({ min: 0, max: 1 }), async (r, which) => {
        const port = targets[which]!;
        const failure = problem(await raw(port, bytesOf(r, port)));
        if (failure) throw new Error(`${which === 0 ? 'registry' : 'agent'} ${r.method} ${r.path.slice(0, 80)} (${r.framing}): ${failure}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect((await fetch(`${registry.url}/health`)).status).toBe(200);
    expect((await fetch(`${agent.url!}/health`)).status).toBe(200);
    expect(await search()).toEqual(before);
  }, 120_000);
});
