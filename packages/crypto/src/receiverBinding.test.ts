import { generateKeyPairSync } from 'node:crypto';
import type { ReceiverBinding, VerifiableRequest } from '@sov/core';
import { Identity } from './identity';
import { ManualClock } from '@sov/core/internal';
import { RequestSigner } from './requestSigner';
import { RequestVerifier } from './requestVerifier';

const clock = new ManualClock({ start: Date.UTC(2025, 0, 1) });
const alice = Identity.generate({ clock });
const agentA = Identity.generate({ clock });
const agentB = Identity.generate({ clock });

/** A request as Alice's signer makes it for `url`, with `sov` headers set before signing. */
function capture(url: string, sov: Record<string, string> = {}): VerifiableRequest {
  const u = new URL(url);
  const body = Buffer.from('{"service":"echo","params":{"text":"hi"}}');
  const signer = alice.signer;
  const out = signer.sign({ method: 'POST', url, body, headers: { 'content-type': 'application/json', ...sov } });
  const headers: Record<string, string> = { 'content-type': 'application/json', host: u.host };
  // As node hands them to a server: names lowercased.
  for (const [k, v] of Object.entries({ ...sov, ...out })) headers[k.toLowerCase()] = v;
  return { method: 'POST', path: u.pathname + u.search, authority: u.host, headers, body };
}

const at = (request: VerifiableRequest, receiver: ReceiverBinding, host = request.authority): VerifiableRequest => ({
  ...request,
  authority: host,
  headers: { ...request.headers, host },
  receiver,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? 'NOT_A_SOV_ERROR';
  }
}

function refusalOf(fn: () => unknown): { code: string | undefined; message: string } {
  try {
    fn();
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a refusal');
}

const A: ReceiverBinding = { id: agentA.id, authorities: new Set(['127.0.0.1:8001', 'localhost:8001']) };
const B: ReceiverBinding = { id: agentB.id, authorities: new Set(['127.0.0.1:8002', 'localhost:8002']) };
const REGISTRY: ReceiverBinding = { authorities: new Set(['127.0.0.1:7000']) };

describe('a signature is bound to its receiver', () => {
  it('is accepted by the receiver it names, by id or by authority', () => {
    expect(new RequestVerifier({ clock }).verify(at(capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id }), A)).id).toBe(alice.id);
    expect(new RequestVerifier({ clock }).verify(at(capture('http://127.0.0.1:8001/rpc'), A)).id).toBe(alice.id);
  });

  it('covers every x-sov-* header the caller set', () => {
    const request = capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id, 'X-Sov-Receipt': '1' });
    // Sorted by name after the fixed components, whatever order and case they were set in.
    expect(request.headers['signature-input']).toContain('"content-digest" "x-sov-receipt" "x-sov-receiver")');
    expect(new RequestVerifier({ clock }).verify(at(request, A)).id).toBe(alice.id);
  });

  it('is refused by another agent when replayed with Host rewritten to the original (by id)', () => {
    const captured = capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id });
    expect(codeOf(() => new RequestVerifier({ clock }).verify(at(captured, B, '127.0.0.1:8001')))).toBe('WRONG_RECEIVER');
  });

  it('is refused by another agent when replayed with Host rewritten to the original (by authority)', () => {
    const captured = capture('http://127.0.0.1:8001/rpc');
    expect(codeOf(() => new RequestVerifier({ clock }).verify(at(captured, B, '127.0.0.1:8001')))).toBe('WRONG_RECEIVER');
  });

  it('is refused by another agent after it was delivered to the original (each receiver has its own nonce memory)', () => {
    const captured = capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id });
    expect(new RequestVerifier({ clock }).verify(at(captured, A)).id).toBe(alice.id);
    expect(codeOf(() => new RequestVerifier({ clock }).verify(at(captured, B)))).toBe('WRONG_RECEIVER');
  });

  it('is refused across an agent and the registry, both ways', () => {
    const forRegistry = capture('http://127.0.0.1:7000/v1/agents');
    expect(codeOf(() => new RequestVerifier({ clock }).verify(at(forRegistry, A, '127.0.0.1:7000')))).toBe('WRONG_RECEIVER');
    const forAgent = capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id });
    expect(codeOf(() => new RequestVerifier({ clock }).verify(at(forAgent, REGISTRY)))).toBe('WRONG_RECEIVER');
    expect(new RequestVerifier({ clock }).verify(at(forRegistry, REGISTRY)).id).toBe(alice.id);
  });

  it('is refused across two registries', () => {
    const other: ReceiverBinding = { authorities: new Set(['127.0.0.1:7001']) };
    const captured = capture('http://127.0.0.1:7000/v1/agents');
    expect(codeOf(() => new RequestVerifier({ clock }).verify(at(captured, other, '127.0.0.1:7000')))).toBe('WRONG_RECEIVER');
  });

  it('refuses an x-sov-* header the signature does not cover (a relay asking for a receipt)', () => {
    const captured = capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id });
    const relayed = at({ ...captured, headers: { ...captured.headers, 'x-sov-receipt': '1' } }, A);
    expect(codeOf(() => new RequestVerifier({ clock }).verify(relayed))).toBe('SIGNATURE_INVALID');
  });

  it('refuses a covered x-sov-receiver that was changed in transit', () => {
    const captured = capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id });
    const changed = at({ ...captured, headers: { ...captured.headers, 'x-sov-receiver': agentB.id } }, B);
    expect(codeOf(() => new RequestVerifier({ clock }).verify(changed))).toBe('SIGNATURE_INVALID');
  });

  it('says in each refusal what the request was signed for and what this receiver answers to', () => {
    const byId = refusalOf(() => new RequestVerifier({ clock }).verify(at(capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id }), B)));
    expect(byId.code).toBe('WRONG_RECEIVER');
    expect(byId.message).toContain(agentA.id);
    expect(byId.message).toContain(agentB.id);
    const atRegistry = refusalOf(() => new RequestVerifier({ clock }).verify(at(capture('http://127.0.0.1:8001/rpc', { 'x-sov-receiver': agentA.id }), REGISTRY)));
    expect(atRegistry.message).toMatch(/no id/);
    const byAuthority = refusalOf(() => new RequestVerifier({ clock }).verify(at(capture('http://127.0.0.1:8001/rpc'), B, '127.0.0.1:8001')));
    expect(byAuthority.code).toBe('WRONG_RECEIVER');
    expect(byAuthority.message).toContain('127.0.0.1:8001');
    expect(byAuthority.message).toContain('127.0.0.1:8002');
    expect(byAuthority.message).toContain('publicUrl');
    const captured = capture('http://127.0.0.1:8001/rpc');
    const uncovered = refusalOf(() => new RequestVerifier({ clock }).verify(at({ ...captured, headers: { ...captured.headers, 'x-sov-receipt': '1' } }, A)));
    expect(uncovered).toEqual({ code: 'SIGNATURE_INVALID', message: expect.stringContaining('x-sov-receipt') as string });
  });

  it('refuses an uncovered x-sov-* header even without a receiver binding', () => {
    const captured = capture('http://127.0.0.1:8001/rpc');
    const { receiver: _receiver, ...unbound } = at({ ...captured, headers: { ...captured.headers, 'x-sov-receiver': agentB.id } }, A);
    expect(codeOf(() => new RequestVerifier({ clock }).verify(unbound))).toBe('SIGNATURE_INVALID');
  });

  it('refuses a signature that names no receiver at all', () => {
    const signer = new RequestSigner({ privateKey: generateKeyPairSync('ed25519').privateKey, coverAuthority: false, clock });
    const body = Buffer.from('{}');
    const out = signer.sign({ method: 'POST', url: 'http://127.0.0.1:8001/rpc', body, headers: {} });
    const headers: Record<string, string> = { host: '127.0.0.1:8001' };
    for (const [k, v] of Object.entries(out)) headers[k.toLowerCase()] = v;
    const request: VerifiableRequest = { method: 'POST', path: '/rpc', authority: '127.0.0.1:8001', headers, body, receiver: A };
    expect(refusalOf(() => new RequestVerifier({ clock }).verify(request))).toEqual({
      code: 'SIGNATURE_INVALID',
      message: expect.stringContaining('must name its receiver') as string,
    });
    // Without a binding (a verifier used on its own) nothing about the receiver is checked, as before.
    const { receiver: _receiver, ...unbound } = request;
    expect(new RequestVerifier({ clock }).verify(unbound).id).toMatch(/^did:key:/);
  });
});
