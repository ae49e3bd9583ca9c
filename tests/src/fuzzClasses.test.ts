/**
 * Fuzzes the registry (signatures required, a few registered agents) and an
 * agent endpoint (a service router with a JSON-Schema service) with bad input:
 * malformed JSON, deep and huge values, odd and duplicated headers, odd URLs,
 * wrong content types, framing errors, and valid JSON of the wrong types.
 *
 * Properties, for every input: no 5xx; every 4xx is the SDK's wire format
 * `{ success: false, error: { code, message } }` with a code from core's
 * declared error codes (isSovErrorCode), sent as JSON; the servers answer /health afterwards; and search
 * results (and stakes) are what they were before the fuzzing.
 *
 * Bounded and seeded: a failure names the input (shrunk by fast-check), the
 * answer and the seed, and replays with the same seed.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import * as fc from 'fast-check';
import { Agent, isSovErrorCode } from '@sov/core';
import { jsonDepthProblem } from '@sov/core/internal';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { TestRegistry } from '@sov/testing';

/** Fixed, so a failure replays; SOV_FUZZ_SEED explores others (report what they find). */
const SEED = Number(process.env.SOV_FUZZ_SEED ?? 20_261_111);
/** Inputs per property: keeps the whole file well under 60 s on 2 cores (SOV_FUZZ_RUNS for a longer exploration). */
const NUM_RUNS = Number(process.env.SOV_FUZZ_RUNS ?? 300);

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** What went wrong with one answer, or undefined when it is acceptable. */
function problemOf(answer: Answer | { none: string }): string | undefined {
  if ('none' in answer) return `no HTTP answer (${answer.none})`;
  if (answer.status >= 500) return `a ${answer.status}`;
  if (answer.status < 400) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `a ${answer.status} whose body is not JSON`;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if ((body as { success?: unknown } | null)?.success !== false || typeof error !== 'object' || error === null) {
    return `a ${answer.status} not in the wire format { success: false, error: { code, message } }`;
  }
  if (typeof error.code !== 'string' || !isSovErrorCode(error.code)) {
    return `a ${answer.status} whose error code ${JSON.stringify(error.code)} is not a declared error code`;
  }
  if (typeof error.message !== 'string') return `a ${answer.status} whose error has no string message`;
  if (!/^application\/json/i.test(answer.headers['content-type'] ?? '')) {
    return `a ${answer.status} ${error.code} sent as ${JSON.stringify(answer.headers['content-type'] ?? null)}, not application/json`;
  }
  return undefined;
}

/** Throws (failing the property, with the input shown by fast-check) when the answer breaks a property. */
function expectWireAnswer(answer: Answer | { none: string }): void {
  const problem = problemOf(answer);
  if (!problem) return;
  const shown = 'none' in answer ? '' : ` ${answer.status} ${JSON.stringify(answer.headers['content-type'] ?? null)} ${JSON.stringify(answer.text.slice(0, 400))}`;
  throw new Error(`answered with ${problem}:${shown}`);
}

/** Parses the first HTTP response in `raw` (content-length, chunked or until close). */
function parseRaw(raw: Buffer): Answer | undefined {
  // Interim answers (100 Continue) come before the final one.
  while (/^HTTP\/1\.[01] 1\d\d /.test(raw.subarray(0, 13).toString('latin1')) && raw.indexOf('\r\n\r\n') >= 0) raw = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let rest = raw.subarray(split + 4);
  if (headers['content-length'] !== undefined) {
    rest = rest.subarray(0, Number(headers['content-length']));
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol < 0) break;
      const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    rest = Buffer.concat(parts);
  }
  return { status, headers, text: rest.toString('utf8') };
}

/** Sends raw bytes and reads the first answer the server wrote before it closed. */
function rawExchange(port: number, bytes: Buffer): Promise<Answer | { none: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let failure = 'the connection closed without a response';
    // A guard against a server that never answers (reported as a failure), not a timing assertion.
    const guard = setTimeout(() => {
      failure = 'no response within 10 s';
      socket.destroy();
    }, 10_000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // An event stream that started never ends by itself: its head is the answer.
      const seen = Buffer.concat(chunks);
      if (seen.indexOf('\r\n\r\n') >= 0 && /^content-type: text\/event-stream/im.test(seen.subarray(0, seen.indexOf('\r\n\r\n')).toString('latin1'))) socket.destroy();
    });
    // A server may answer and close before reading everything (413): what it wrote still counts.
    socket.on('error', (e) => (failure = `socket error ${e.message}`));
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(parseRaw(Buffer.concat(chunks)) ?? { none: failure });
    });
    socket.end(bytes);
  });
}

/** One request through node:http (well-framed, so the server's own handling of its content is what is tested). */
function httpExchange(url: string, method: string, headers: Record<string, string>, body: Buffer): Promise<Answer | { none: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method, headers: { ...headers, 'content-length': String(body.length), connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
        resolve({ status: res.statusCode ?? 0, headers: flat, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => resolve({ none: `response error ${e.message}` }));
    });
    req.on('error', (e) => resolve({ none: `request error ${e.message}` }));
    req.end(body);
  });
}

// ---------------------------------------------------------------- the inputs

/** JSON nested `depth` levels, written as text (JSON.stringify itself would recurse). */
const deepJson = fc
  .record({ depth: fc.integer({ min: 65, max: 30_000 }), kind: fc.constantFrom('array', 'object', 'mixed') })
  .map(({ depth, kind }) => {
    if (kind === 'array') return '['.repeat(depth) + ']'.repeat(depth);
    if (kind === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    return '{"a":['.repeat(depth >> 1) + '0' + ']}'.repeat(depth >> 1);
  });

/** Large values: long strings, many keys, long arrays, long numbers (some under a body limit, some over). */
const hugeJson = fc.oneof(
  fc.integer({ min: 5_000, max: 120_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.integer({ min: 500, max: 6_000 }).map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  fc.integer({ min: 1_000, max: 30_000 }).map((n) => `[${new Array<string>(n).fill('0').join(',')}]`),
  fc.integer({ min: 300, max: 5_000 }).map((n) => '9'.repeat(n)),
  fc.constantFrom('1e999999', '-1e999999', '1e-999999', '0.' + '0'.repeat(3000) + '1'),
  // Over the agent's 1 MiB body limit too.
  fc.constant(JSON.stringify('y'.repeat(1_100_000))),
);

const malformedJson = fc.oneof(
  fc.constantFrom('{', '{"a":', '[1,2', '{"a":1,}', "{'a':1}", 'nul', 'tru', '\u0000', '{"a":"\\u12"}', '{"a":"\\x41"}', '"unterminated', '{"a" 1}', '01', '+1', 'NaN', 'Infinity', '[,]', '{"__proto__":', '\ufeff{}', ''),
  // A valid document cut short.
  fc.tuple(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'), fc.nat()).map(([s, n]) => s.slice(0, s.length > 1 ? n % (s.length - 1) : 0)),
  fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !isJson(s)),
);

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Valid JSON of any shape (the wrong types for every route). */
const anyJson = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null');

/** Path segments that are hard on routers and decoders. */
const oddSegment = fc.oneof(
  fc.constantFrom('%ZZ', '%', '%4', '%e0%a4%a', '%00', '%2F', '%2e%2e', '..', '.', '', '%C0%AF', '%ED%A0%80', '%F0%9F%98%80', ';x', '~', '%25', '*', 'did:key:z6Mk' + 'a'.repeat(40)),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.integer({ min: 100, max: 9000 }).map((n) => 'a'.repeat(n)),
);

const oddQuery = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?limit=-1', '?limit=abc', '?limit=1e309', '?limit=0', '?limit=1&limit=2', '?minReputation=NaN', '?minReputation=2', '?maxPrice=0.5',
    '?maxPrice=-1', '?cursor=%ZZ', '?cursor=AAAA', '?capability=%', '?__proto__=1', '?constructor[prototype]=1', '?capability[]=x', '?type=nope', '?%ZZ=1',
  ),
  fc.integer({ min: 100, max: 9000 }).map((n) => `?capability=${'c'.repeat(n)}`),
  fc.array(fc.string({ unit: 'grapheme', maxLength: 8 }), { maxLength: 30 }).map((cs) => `?${cs.map((c) => `capability=${encodeURIComponent(c)}`).join('&')}`),
);

const registryRoutes = [
  'GET /v1/agents', 'GET /v1/agents/:id', 'GET /v1/stakes/:id', 'POST /v1/agents', 'POST /v1/agents/:id/heartbeat', 'PUT /v1/agents/:id/metadata',
  'DELETE /v1/agents/:id', 'POST /v1/stakes/:id/credit', 'POST /v1/stakes/:id/debit', 'POST /v1/feedback', 'POST /v1/agents/:id/requests', 'GET /health', 'GET /ready',
  'GET /v1/events',
];
const agentRoutes = ['POST /rpc', 'GET /health', 'GET /ready', 'GET /catalog', 'POST /catalog', 'GET /rpc', 'PUT /rpc', 'DELETE /rpc'];

function targetOf(routes: string[]): fc.Arbitrary<{ method: string; path: string }> {
  return fc
    .tuple(fc.constantFrom(...routes), oddSegment, oddQuery, fc.constantFrom('', '/', '/..', '/../..', '//', '/%ZZ', '/%2e%2e/x'))
    .map(([route, seg, query, tail]) => {
      const [method = 'GET', path = '/'] = route.split(' ');
      return { method, path: path.replace(':id', seg) + tail + query };
    });
}

const oddContentType = fc.constantFrom(
  undefined, 'application/json', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json, text/plain', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/*', '', ';', 'application/json; charset="', 'application/octet-stream',
);

/** Header lines a client might send, some legal and odd, some duplicated or conflicting. */
const oddHeaderLines = fc.array(
  fc.oneof(
    fc.constantFrom(
      'Host: 127.0.0.1', 'Host: ', 'Host: [::1', 'Host: a b', 'Host: evil.example', 'Content-Type: application/json', 'Content-Type: text/plain', 'Content-Encoding: gzip',
      'Content-Encoding: br', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked, identity', 'Expect: 100-continue', 'Expect: nonsense', 'Accept: */*',
      'Accept-Encoding: gzip;q=1e999', 'Connection: keep-alive, Upgrade', 'Upgrade: websocket', 'Last-Event-ID: abc', 'Last-Event-ID: -1', 'Authorization: Bearer ',
      'Authorization: Bearer test-operator-token', 'Authorization: Basic %%%', 'Signature: sig1=:AAAA:', 'Signature-Input: sig1=("@method");created=1;keyid="x"',
      'Signature-Input: sig1=(', 'Content-Digest: sha-256=:AAAA:', 'x-sov-receiver: did:key:nope', 'x-sov-receipt: 1', 'X-Forwarded-For: ::1, %ZZ', 'Cookie: a=%ZZ',
      'Range: bytes=0-', 'If-None-Match: *', 'Origin: null', 'X-Empty:', 'x-sov-receiver: \u00e9t\u00e9',
    ),
    fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((v) => v.replace(/[\r\n]/g, ' '))).map(([k, v]) => `${k}: ${v}`),
    fc.integer({ min: 1_000, max: 12_000 }).map((n) => `X-Long: ${'v'.repeat(n)}`),
  ),
  { maxLength: 6 },
);

/** Ways of framing a body: Content-Length (right, wrong, twice), chunked (right, bad chunk size), both at once, none. */
const framing = fc.constantFrom('length', 'length-twice-same', 'length-twice-different', 'length-short', 'length-negative', 'length-garbage', 'chunked', 'chunked-bad-size', 'chunked-and-length', 'none');

function rawRequest(method: string, path: string, headerLines: string[], body: Buffer, how: string, version = 'HTTP/1.1'): Buffer {
  const lines = [`${method} ${path} ${version}`, ...headerLines];
  let payload = body;
  switch (how) {
    case 'length':
      lines.push(`Content-Length: ${body.length}`);
      break;
    case 'length-twice-same':
      lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length}`);
      break;
    case 'length-twice-different':
      lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
      break;
    case 'length-short':
      lines.push(`Content-Length: ${body.length + 10}`);
      break;
    case 'length-negative':
      lines.push('Content-Length: -1');
      break;
    case 'length-garbage':
      lines.push('Content-Length: 1x');
      break;
    case 'chunked':
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      if (body.length === 0) payload = Buffer.from('0\r\n\r\n');
      break;
    case 'chunked-bad-size':
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from('ZZ\r\n'), body, Buffer.from('\r\n0\r\n\r\n')]);
      break;
    case 'chunked-and-length':
      lines.push('Transfer-Encoding: chunked', `Content-Length: ${body.length}`);
      payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      break;
    default:
      break;
  }
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), payload]);
}

/** A route a fuzzed value is sent to, wrapped into a body; `couldSucceed` names the values that would be a legitimate change. */
interface BodyRoute {
  method: string;
  path: string;
  wrap: (value: string) => string;
  signer: string;
  couldSucceed?: (value: string) => boolean;
}

/** The value of a JSON text, or undefined when it is not JSON. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Metadata the registry accepts: an object within its depth bound and 8 KiB. */
function validMetadata(text: string): boolean {
  const value = parsed(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Buffer.byteLength(text) <= 8192 && jsonDepthProblem(value, 64) === undefined;
}

// ---------------------------------------------------------------- the servers

interface Target {
  name: string;
  url: string;
  port: number;
  routes: string[];
}

describe('fuzzing the registry and an agent endpoint, one class of bad input at a time, signed where it must reach validation', () => {
  let registry: TestRegistry;
  const baseline: Array<{ agent: Agent; identity: Identity }> = [];
  const stranger = Identity.generate();
  let worker: Agent;
  let targets: Target[];
  let before: string;

  /** Search results and stakes as a user sees them, without the fields that move with time (heartbeats, leases, availability). */
  async function observable(): Promise<string> {
    const client = registry.client();
    const project = (agents: Array<{ id: string; name: string; endpoint: string; capabilities: string[]; services: unknown; metadata: unknown; reputation: number }>) =>
      agents.map(({ id, name, endpoint, capabilities, services, metadata, reputation }) => ({ id, name, endpoint, capabilities, services, metadata, reputation }));
    const all = await client.search({ limit: 100 });
    const some = await client.search({ capabilities: ['fuzz-baseline'], minReputation: 0.1, limit: 2 });
    const stakes = await Promise.all([...baseline.map((b) => b.identity.id), stranger.id].map(async (id) => (await client.getStake(id)).stake));
    return JSON.stringify({ all: { total: all.total, agents: project(all.agents) }, some: { total: some.total, agents: project(some.agents) }, stakes });
  }

  async function expectAlive(): Promise<void> {
    for (const t of targets) {
      const answer = await httpExchange(`${t.url}/health`, 'GET', {}, Buffer.alloc(0));
      expect({ target: t.name, status: 'none' in answer ? answer.none : answer.status }).toEqual({ target: t.name, status: 200 });
    }
  }

  beforeAll(async () => {
    registry = await TestRegistry.start();
    for (const name of ['alpha', 'beta', 'gamma']) {
      const identity = Identity.generate();
      const agent = new Agent({ name, registryUrl: registry.url, identity, port: 0, logLevel: 'error', capabilities: ['fuzz-baseline', `fuzz-${name}`], metadata: { tier: name } });
      baseline.push({ agent, identity });
    }
    worker = baseline[0]!.agent;
    worker.use(serviceRouter()).register({
      name: 'process_data',
      price: 2,
      inputSchema: {
        type: 'object',
        properties: { data: { type: 'array', items: { type: 'number' }, maxItems: 1000 }, algorithm: { enum: ['sum', 'max'] } },
        required: ['data', 'algorithm'],
        additionalProperties: false,
      },
      handler: (p: { data: number[]; algorithm: 'sum' | 'max' }) => (p.algorithm === 'sum' ? p.data.reduce((a, b) => a + b, 0) : Math.max(...p.data)),
    });
    for (const b of baseline) await b.agent.start();
    await registry.creditStake(baseline[1]!.identity.id, 500);
    targets = [
      { name: 'registry', url: registry.url, port: Number(new URL(registry.url).port), routes: registryRoutes },
      { name: 'agent', url: worker.url!, port: Number(new URL(worker.url!).port), routes: agentRoutes },
    ];
    before = await observable();
  });

  afterAll(async () => {
    for (const b of baseline) await b.agent.shutdown();
    await registry.stop();
  });

  afterEach(async () => {
    // After every class of input: both servers alive, and nothing a refusal touched has changed.
    await expectAlive();
    const was = before;
    before = await observable();
    // Compared as objects for a readable diff; the baseline moves on so that one leak is reported once.
    expect(JSON.parse(before)).toEqual(JSON.parse(was));
  });

  const params = { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true } as const;

  it('sees the baseline it will compare against', () => {
    const seen = JSON.parse(before) as { all: { total: number }; some: { total: number }; stakes: number[] };
    expect(seen.all.total).toBe(3);
    expect(seen.some.total).toBe(3);
    expect(seen.stakes).toEqual([0, 500, 0, 0]);
  });

  describe.each(['registry', 'agent'])('the %s', (which) => {
    const target = (): Target => targets.find((t) => t.name === which)!;

    /** A body sent well-framed over HTTP to a route of the target, signed by `signer` when given (so it passes authentication and reaches validation). */
    async function sendBody(method: string, path: string, body: string, contentType: string | undefined, signer?: Identity['signer']): Promise<Answer | { none: string }> {
      const url = `${target().url}${path}`;
      const bytes = Buffer.from(body, 'utf8');
      const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
      if (signer) Object.assign(headers, signer.sign({ method, url, body: bytes, headers }));
      return httpExchange(url, method, headers, bytes);
    }

    /** Where a body goes: a signed write whose content reaches validation (never one that could succeed). */
    const bodyRoute = fc.constantFrom<BodyRoute>(
      ...(which === 'agent'
        ? [
            { method: 'POST', path: '/rpc', wrap: (v: string) => v, signer: 'stranger' },
            { method: 'POST', path: '/rpc', wrap: (v: string) => `{"service":"process_data","params":${v}}`, signer: 'stranger' },
            { method: 'POST', path: '/rpc', wrap: (v: string) => `{"service":"process_data","params":{"data":${v},"algorithm":"sum"}}`, signer: 'stranger' },
            { method: 'POST', path: '/rpc', wrap: (v: string) => `{"service":${v},"params":{}}`, signer: 'stranger' },
            { method: 'POST', path: '/rpc', wrap: (v: string) => v, signer: 'none' },
          ]
        : [
            { method: 'POST', path: '/v1/agents', wrap: (v: string) => v, signer: 'stranger' },
            {
              method: 'POST',
              path: '/v1/agents',
              wrap: (v: string) => `{"id":"${stranger.id}","name":"s","endpoint":"http://127.0.0.1:9","capabilities":["fuzz-baseline"],"metadata":${v}}`,
              signer: 'stranger',
              couldSucceed: validMetadata,
            },
            {
              method: 'POST',
              path: '/v1/agents',
              wrap: (v: string) => `{"id":"${stranger.id}","name":${v},"endpoint":"http://127.0.0.1:9","capabilities":["fuzz-baseline"]}`,
              signer: 'stranger',
              couldSucceed: (v: string) => typeof parsed(v) === 'string',
            },
            {
              method: 'POST',
              path: '/v1/agents',
              wrap: (v: string) => `{"id":"${stranger.id}","name":"s","endpoint":"http://127.0.0.1:9","capabilities":${v}}`,
              signer: 'stranger',
              couldSucceed: (v: string) => Array.isArray(parsed(v)) && (parsed(v) as unknown[]).every((c) => typeof c === 'string'),
            },
            { method: 'PUT', path: 'metadata', wrap: (v: string) => `{"metadata":${v}}`, signer: 'owner', couldSucceed: validMetadata },
            {
              method: 'PUT',
              path: 'metadata',
              wrap: (v: string) => v,
              signer: 'owner',
              couldSucceed: (v: string) => typeof parsed(v) === 'object' && parsed(v) !== null && 'metadata' in (parsed(v) as object),
            },
            { method: 'POST', path: 'credit', wrap: (v: string) => `{"amount":${v}}`, signer: 'operator', couldSucceed: (v: string) => Number.isSafeInteger(parsed(v)) },
            { method: 'POST', path: '/v1/feedback', wrap: (v: string) => v, signer: 'stranger' },
            { method: 'POST', path: '/v1/feedback', wrap: (v: string) => `{"rating":0.5,"receipt":${v}}`, signer: 'stranger' },
            { method: 'POST', path: 'heartbeat', wrap: (v: string) => v, signer: 'stranger' },
            { method: 'POST', path: '/v1/agents', wrap: (v: string) => v, signer: 'none' },
          ]),
    );

    async function sendToRoute(route: BodyRoute, value: string, contentType: string | undefined = 'application/json') {
      // Only inputs that must be refused: a value that would be a legitimate change is skipped.
      fc.pre(!route.couldSucceed?.(value));
      const owner = baseline[2]!.identity;
      const path =
        route.path === 'metadata'
          ? `/v1/agents/${encodeURIComponent(owner.id)}/metadata`
          : route.path === 'credit'
            ? `/v1/stakes/${encodeURIComponent(owner.id)}/credit`
            : route.path === 'heartbeat'
              ? `/v1/agents/${encodeURIComponent(owner.id)}/heartbeat`
              : route.path;
      const signer = route.signer === 'stranger' ? stranger.signer : route.signer === 'owner' ? owner.signer : undefined;
      if (route.signer === 'operator') {
        const url = `${target().url}${path}`;
        return httpExchange(url, route.method, { 'content-type': 'application/json', authorization: `Bearer ${registry.operatorToken}` }, Buffer.from(route.wrap(value)));
      }
      return sendBody(route.method, path, route.wrap(value), contentType, signer);
    }

    it('refuses malformed JSON in the wire format', async () => {
      await fc.assert(fc.asyncProperty(bodyRoute, malformedJson, async (route, value) => expectWireAnswer(await sendToRoute(route, value))), params);
    });

    it('refuses values nested thousands of levels deep in the wire format, keeping nothing', async () => {
      await fc.assert(fc.asyncProperty(bodyRoute, deepJson, async (route, value) => expectWireAnswer(await sendToRoute(route, value))), { ...params, numRuns: NUM_RUNS / 2 });
    });

    it('answers huge values without a 5xx', async () => {
      await fc.assert(fc.asyncProperty(bodyRoute, hugeJson, async (route, value) => expectWireAnswer(await sendToRoute(route, value))), { ...params, numRuns: NUM_RUNS / 2 });
    });

    it('answers valid JSON of the wrong types without a 5xx, refusals in the wire format', async () => {
      const amounts = fc.oneof(anyJson, fc.constantFrom('0.1', '-1', '1e16', '9007199254740993', '"1"', '1.5', '0', '1e400', 'null', 'true'));
      await fc.assert(
        fc.asyncProperty(bodyRoute, anyJson, amounts, async (route, value, amount) => expectWireAnswer(await sendToRoute(route, route.path === 'credit' ? amount : value))),
        params,
      );
    });

    it('answers wrong content types in the wire format', async () => {
      const body = fc.oneof(anyJson, fc.constant('a=1&b=2'), fc.constant('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--'));
      await fc.assert(fc.asyncProperty(bodyRoute, body, oddContentType, async (route, value, type) => expectWireAnswer(await sendToRoute(route, value, type))), params);
    });

    it('answers odd URLs over raw TCP in the wire format', async () => {
      await fc.assert(
        fc.asyncProperty(targetOf(target().routes), anyJson, async ({ method, path }, body) =>
          expectWireAnswer(await rawExchange(target().port, rawRequest(method, path, ['Host: 127.0.0.1', 'Content-Type: application/json'], Buffer.from(body), 'length'))),
        ),
        params,
      );
    });

    it('answers raw unicode, absolute-form and odd request lines in the wire format', async () => {
      const line = fc.oneof(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => ({ method: 'GET', path: `/v1/agents/${s.replace(/[\s]/g, '_')}`, version: 'HTTP/1.1' })),
        fc.constantFrom(
          { method: 'GET', path: 'http://evil.example/v1/agents', version: 'HTTP/1.1' },
          { method: 'GET', path: '*', version: 'HTTP/1.1' },
          { method: 'OPTIONS', path: '*', version: 'HTTP/1.1' },
          { method: 'GET', path: '/health', version: 'HTTP/1.0' },
          { method: 'GET', path: '/health', version: 'HTTP/9.9' },
          { method: 'BREW', path: '/health', version: 'HTTP/1.1' },
          { method: 'GET', path: '/../../etc/passwd', version: 'HTTP/1.1' },
          { method: 'GET', path: '/health#frag', version: 'HTTP/1.1' },
          { method: 'GET', path: '', version: 'HTTP/1.1' },
          { method: 'GET', path: '/v1/agents?capability=\u00e9', version: 'HTTP/1.1' },
        ),
      );
      await fc.assert(
        fc.asyncProperty(line, async ({ method, path, version }) =>
          expectWireAnswer(await rawExchange(target().port, rawRequest(method, path, ['Host: 127.0.0.1'], Buffer.alloc(0), 'none', version))),
        ),
        params,
      );
    });

    it('answers odd, duplicated and conflicting headers and framing over raw TCP in the wire format', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...target().routes), oddHeaderLines, framing, fc.oneof(anyJson, malformedJson), async (route, headers, how, body) => {
          const [method = 'GET', path = '/'] = route.split(' ');
          const concrete = path.replace(':id', encodeURIComponent(baseline[2]!.identity.id));
          expectWireAnswer(await rawExchange(target().port, rawRequest(method, concrete, headers, Buffer.from(body), how)));
        }),
        params,
      );
    });
  });
});
