/**
 * Fuzzes session authentication on a real agent: handshake bodies of any
 * shape, and session-signed requests with one part changed (keyid, nonce,
 * created, alg, signature, body, covered headers). Properties: no input gets
 * a 5xx or a success; every refusal is the wire format with a code from
 * declared error codes; and afterwards the honest caller's session still
 * works, because nothing unverified touches a session's replay window.
 *
 * Bounded and seeded: a failure names the input and the seed, and replays.
 */
import * as fc from 'fast-check';
import { Agent, SESSION_PATH, isSovErrorCode } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { rawPost, type RawAnswer } from './rawPost';

const SEED = Number(process.env.SOV_FUZZ_SEED ?? 20_261_203);
const NUM_RUNS = Number(process.env.SOV_FUZZ_RUNS ?? 200);

function expectRefusal(answer: RawAnswer, what: string): void {
  if (answer.status < 400 || answer.status >= 500) throw new Error(`${what}: answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  const code = answer.body.error?.code;
  if (answer.body.success !== false || typeof code !== 'string' || !isSovErrorCode(code)) {
    throw new Error(`${what}: a ${answer.status} not in the wire format: ${JSON.stringify(answer.body).slice(0, 200)}`);
  }
}

describe('session authentication under fuzzed input', () => {
  let agent: Agent;
  let origin: string;
  const caller = Identity.generate();
  const sessions = caller.createSessionAuthenticator();
  let peer: string;

  beforeAll(async () => {
    agent = new Agent({ name: 'fuzzed', identity: Identity.generate(), port: 0, logLevel: 'error' });
    agent.use(serviceRouter()).register({ name: 'echo', handler: (p: unknown) => p });
    await agent.start();
    origin = agent.url!;
    peer = `${agent.id} ${origin}`;
    const offer = sessions.offer(peer, agent.id);
    const sov = { 'x-sov-receiver': agent.id };
    const headers = { 'content-type': 'application/json', ...sov, ...caller.signer.sign({ method: 'POST', url: `${origin}${SESSION_PATH}`, body: offer.body, headers: sov }) };
    const answer = await rawPost(`${origin}${SESSION_PATH}`, headers, offer.body);
    offer.complete(answer.body);
  });
  afterAll(() => agent.shutdown());

  /** A valid session-signed request for `echo`. */
  function signed(text: string): { headers: Record<string, string>; body: Buffer } {
    const body = Buffer.from(JSON.stringify({ service: 'echo', params: { text } }));
    const sov = { 'x-sov-receiver': agent.id };
    return { body, headers: { 'content-type': 'application/json', ...sov, ...sessions.sign(peer, { method: 'POST', url: `${origin}/rpc`, body, headers: sov })! } };
  }

  it('refuses any handshake body with a 4xx in the wire format, never a session', async () => {
    const bodies = fc.oneof(
      fc.json().map((j) => Buffer.from(j)),
      fc.record({ v: fc.oneof(fc.constant(1), fc.integer(), fc.string()), ephemeral: fc.oneof(fc.string(), fc.base64String(), fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url'))) }).map((o) => Buffer.from(JSON.stringify(o))),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const sov = { 'x-sov-receiver': agent.id };
        const headers = { 'content-type': 'application/json', ...sov, ...caller.signer.sign({ method: 'POST', url: `${origin}${SESSION_PATH}`, body, headers: sov }) };
        const answer = await rawPost(`${origin}${SESSION_PATH}`, headers, body);
        // A well-formed offer with a usable key opens a session: that is the one success allowed.
        if (answer.status === 200) {
          if (typeof answer.body.session?.id !== 'string') throw new Error(`200 without a session: ${JSON.stringify(answer.body)}`);
          return;
        }
        expectRefusal(answer, `handshake body ${body.toString('latin1').slice(0, 80)}`);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('refuses a session request with any one part changed, and the honest session still works after', async () => {
    const mutations = fc.oneof(
      fc.record({ part: fc.constant('keyid'), value: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('s_AAAAAAAAAAAAAAAAAAAAAAAA')) }),
      fc.record({ part: fc.constant('nonce'), value: fc.oneof(fc.string({ maxLength: 30 }), fc.bigInt({ min: -10n, max: 10n ** 20n }).map(String), fc.constant('0'), fc.constant('9007199254740993')) }),
      fc.record({ part: fc.constant('created'), value: fc.oneof(fc.integer().map(String), fc.constant('1e3'), fc.constant('-1')) }),
      fc.record({ part: fc.constant('alg'), value: fc.constantFrom('ed25519', 'hmac-sha512', 'HMAC-SHA256', '', 'none') }),
      fc.record({ part: fc.constant('signature'), value: fc.oneof(fc.base64String({ maxLength: 60 }), fc.string({ maxLength: 50 })) }),
      fc.record({ part: fc.constant('body'), value: fc.string({ maxLength: 40 }) }),
      fc.record({ part: fc.constant('receiver'), value: fc.string({ maxLength: 60 }) }),
    );
    await fc.assert(
      fc.asyncProperty(mutations, async ({ part, value }) => {
        const { headers, body } = signed('fuzz');
        let sent = body;
        const input = headers['Signature-Input']!;
        const signature = headers.Signature;
        if (part === 'keyid') headers['Signature-Input'] = input.replace(/keyid="[^"]*"/, `keyid="${value.replace(/["\\]/g, '')}"`);
        if (part === 'nonce') headers['Signature-Input'] = input.replace(/nonce="[^"]*"/, `nonce="${value.replace(/["\\]/g, '')}"`);
        if (part === 'created') headers['Signature-Input'] = input.replace(/created=\d+/, `created=${value}`);
        if (part === 'alg') headers['Signature-Input'] = input.replace(/alg="[^"]*"/, `alg="${value}"`);
        if (part === 'signature') headers.Signature = `sig1=:${value.replace(/[\r\n]/g, '')}:`;
        if (part === 'body') sent = Buffer.from(JSON.stringify({ service: 'echo', params: { text: `${value}!` } }));
        if (part === 'receiver') headers['x-sov-receiver'] = value.replace(/[^\x20-\x7e]/g, '') || 'x';
        // A change that changed nothing leaves a valid request: not a case.
        if (headers['Signature-Input'] === input && headers.Signature === signature && sent === body && headers['x-sov-receiver'] === agent.id) return;
        const answer = await rawPost(`${origin}/rpc`, headers, sent);
        expectRefusal(answer, `${part} = ${JSON.stringify(value)}`);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    const honest = signed('still here');
    const answer = await rawPost(`${origin}/rpc`, honest.headers, honest.body);
    expect(answer).toMatchObject({ status: 200, body: { success: true, result: { text: 'still here' } } });
    await expect(fetch(`${origin}/health`).then((r) => r.status)).resolves.toBe(200);
  });
});
