import { generateKeyPairSync } from 'node:crypto';
import type { VerifiableRequest } from '@sov/core';
import { Identity } from './identity';
import { ManualClock } from '@sov/core/internal';
import { RequestSigner } from './requestSigner';
import { RequestVerifier } from './requestVerifier';

const URL_ = 'http://127.0.0.1:8080/rpc?mode=fast';

function signed(signer: RequestSigner, init: { method?: string; url?: string; body?: string } = {}): VerifiableRequest {
  const url = new URL(init.url ?? URL_);
  const body = Buffer.from(init.body ?? '{"service":"echo","params":{"text":"hi"}}');
  const method = init.method ?? 'POST';
  const out = signer.sign({ method, url: url.toString(), body, headers: { 'content-type': 'application/json' } });
  const headers: Record<string, string> = { 'content-type': 'application/json', host: url.host };
  for (const [k, v] of Object.entries(out)) headers[k.toLowerCase()] = v;
  return { method, path: url.pathname + url.search, authority: url.host, headers, body };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? 'NOT_A_SOV_ERROR';
  }
}

const flip = (s: string, i: number) => s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 1) + s.slice(i + 1);

describe('RequestSigner + RequestVerifier', () => {
  const clock = new ManualClock({ start: Date.UTC(2025, 0, 1) });
  const identity = Identity.generate({ clock });

  it('signs with RFC 9421 headers and verifies, returning the caller id', () => {
    const request = signed(identity.signer);
    expect(request.headers['content-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
    expect(request.headers['signature-input']).toMatch(
      /^sig1=\("@method" "@authority" "@path" "@query" "content-digest"\);created=\d+;keyid="did:key:z6Mk\w+";nonce="[\w-]{22}";alg="ed25519"$/,
    );
    expect(request.headers['signature']).toMatch(/^sig1=:[A-Za-z0-9+/]{86}==:$/);
    const verifier = identity.createVerifier({ clock });
    expect(verifier.isSigned(request)).toBe(true);
    expect(verifier.verify(request)).toEqual({ id: identity.id, keyId: identity.id });
  });

  it('signs GET without a body and paths without a query', () => {
    const verifier = new RequestVerifier({ clock });
    expect(verifier.verify(signed(identity.signer, { method: 'GET', url: 'http://h:1/v1/agents', body: '' })).id).toBe(identity.id);
    expect(verifier.verify(signed(identity.signer, { method: 'DELETE', url: 'http://h:1/v1/agents/x?', body: '' })).id).toBe(identity.id);
  });

  it('works with coverAuthority off, and requireAuthority refuses that', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = new RequestSigner({ privateKey, clock, coverAuthority: false });
    const request = signed(signer);
    expect(new RequestVerifier({ clock }).verify({ ...request, authority: 'elsewhere:1' }).id).toBe(signer.keyId);
    expect(codeOf(() => new RequestVerifier({ clock, requireAuthority: true }).verify(signed(signer)))).toBe('SIGNATURE_INVALID');
  });

  it('refuses an unsigned request with UNAUTHORIZED', () => {
    const verifier = new RequestVerifier({ clock });
    const request: VerifiableRequest = { method: 'POST', path: '/rpc', authority: 'h', headers: {}, body: Buffer.from('{}') };
    expect(verifier.isSigned(request)).toBe(false);
    expect(codeOf(() => verifier.verify(request))).toBe('UNAUTHORIZED');
  });

  it('refuses every changed byte of every signed part', () => {
    const verifier = new RequestVerifier({ clock });
    const original = signed(identity.signer);
    const headers = original.headers as Record<string, string>;
    let attempts = 0;
    const expectRefused = (request: VerifiableRequest, what: string) => {
      attempts++;
      const code = codeOf(() => verifier.verify(request));
      if (!code || code === 'NOT_A_SOV_ERROR') throw new Error(`accepted or crashed with ${what}: ${String(code)}`);
    };
    for (let i = 0; i < original.method.length; i++) expectRefused({ ...original, method: flip(original.method, i) }, `method byte ${i}`);
    for (let i = 0; i < original.path.length; i++) expectRefused({ ...original, path: flip(original.path, i) }, `path byte ${i}`);
    for (let i = 0; i < original.authority.length; i++) expectRefused({ ...original, authority: flip(original.authority, i) }, `authority byte ${i}`);
    for (let i = 0; i < original.body.length; i++) {
      const body = Buffer.from(original.body);
      body[i]! ^= 1;
      expectRefused({ ...original, body }, `body byte ${i}`);
    }
    for (const name of ['content-digest', 'signature-input', 'signature']) {
      const value = headers[name]!;
      for (let i = 0; i < value.length; i++) expectRefused({ ...original, headers: { ...headers, [name]: flip(value, i) } }, `${name} byte ${i}`);
    }
    expect(attempts).toBeGreaterThan(400);
    // The untouched request still passes: every refusal above was the flip's doing.
    expect(verifier.verify(original).id).toBe(identity.id);
  });

  it('takes a signature only in its one canonical base64 spelling, in the simple form or as a general dictionary', () => {
    const verifier = new RequestVerifier({ clock });
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const withSignature = (change: (value: string) => string) => {
      const request = signed(identity.signer);
      const headers = request.headers as Record<string, string>;
      return { ...request, headers: { ...headers, signature: change(headers['signature']!) } };
    };
    // The character before '==' carries 2 bits of the last byte and 4 unused bits. Setting one gives another
    // spelling that Node decodes to the same 64 bytes: it is refused all the same.
    const bend = (value: string, unused: number) => {
      const at = value.length - 4;
      const bent = value.slice(0, at) + B64[B64.indexOf(value[at]!) | unused]! + value.slice(at + 1);
      expect(Buffer.from(bent.slice(6, -1), 'base64')).toEqual(Buffer.from(value.slice(6, -1), 'base64'));
      return bent;
    };
    for (const unused of [1, 2, 4, 8]) {
      expect(codeOf(() => verifier.verify(withSignature((v) => bend(v, unused))))).toBe('SIGNATURE_INVALID');
      expect(codeOf(() => verifier.verify(withSignature((v) => `other=:AAAA:, ${bend(v, unused)}`)))).toBe('SIGNATURE_INVALID');
    }
    // The canonical signature among other members, with spaces: the general parser's path takes it.
    expect(verifier.verify(withSignature((v) => `other=:AAAA:,  ${v}`)).id).toBe(identity.id);
  });

  it('refuses a replayed nonce inside the window', () => {
    const verifier = new RequestVerifier({ clock });
    const request = signed(identity.signer);
    verifier.verify(request);
    expect(codeOf(() => verifier.verify(request))).toBe('REPLAY_DETECTED');
  });

  it('refuses a created time outside the window or too far ahead', () => {
    const verifier = new RequestVerifier({ clock, windowSec: 30, maxSkewSec: 2 });
    const old = signed(identity.signer);
    clock.advance(30_000);
    expect(codeOf(() => verifier.verify(old))).toBe('SIGNATURE_EXPIRED');
    const early = signed(Identity.generate({ clock: new ManualClock({ start: clock.now() + 3_000 }) }).signer);
    expect(codeOf(() => verifier.verify(early))).toBe('SIGNATURE_EXPIRED');
    const slightlyEarly = signed(Identity.generate({ clock: new ManualClock({ start: clock.now() + 1_000 }) }).signer);
    expect(verifier.verify(slightlyEarly).id).toMatch(/^did:key:/);
  });

  it('refuses a signature by another key, a swapped keyid, and an uncovered digest', () => {
    const verifier = new RequestVerifier({ clock });
    const other = Identity.generate({ clock });
    const request = signed(identity.signer);
    const forged = signed(other.signer);
    const swapped = {
      ...forged,
      headers: { ...forged.headers, 'signature-input': (forged.headers['signature-input'] as string).replace(other.id, identity.id) },
    };
    expect(codeOf(() => verifier.verify(swapped))).toBe('SIGNATURE_INVALID');
    const mixed = { ...request, headers: { ...request.headers, signature: forged.headers['signature'] } };
    expect(codeOf(() => verifier.verify(mixed))).toBe('SIGNATURE_INVALID');
    const narrow = {
      ...request,
      headers: { ...request.headers, 'signature-input': (request.headers['signature-input'] as string).replace(' "content-digest"', '') },
    };
    expect(codeOf(() => verifier.verify(narrow))).toBe('SIGNATURE_INVALID');
    const noDigest = { ...request, headers: { ...request.headers, 'content-digest': undefined } };
    expect(codeOf(() => verifier.verify(noDigest))).toBe('SIGNATURE_INVALID');
  });

  it('keeps nonce memory bounded and still refuses every replay under a flood', () => {
    const verifier = new RequestVerifier({ clock, maxNonces: 8 });
    const requests: VerifiableRequest[] = [];
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      const r = signed(identity.signer);
      expect(verifier.verify(r).id).toBe(identity.id);
      requests.push(r);
    }
    const codes = requests.map((r) => codeOf(() => verifier.verify(r)));
    expect(codes.slice(-8)).toEqual(Array(8).fill('REPLAY_DETECTED'));
    expect(codes.slice(0, 12)).toEqual(Array(12).fill('SIGNATURE_EXPIRED'));
  });
});
