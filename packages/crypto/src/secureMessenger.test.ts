import { SovError } from '@sov/core';
import { Identity } from './identity';
import { ManualClock } from '@sov/core/internal';
import { SecureMessenger, type PeerKeyResolver, type SealedEnvelope } from './secureMessenger';
import { staticKeyResolver } from './staticKeyResolver';

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? 'NOT_A_SOV_ERROR';
  }
}

function setup(options: { sessionTtlSec?: number } = {}) {
  const clock = new ManualClock({ start: Date.UTC(2025, 0, 1) });
  const alice = Identity.generate({ clock });
  const bob = Identity.generate({ clock });
  const carol = Identity.generate({ clock });
  const resolver = staticKeyResolver([alice, bob, carol]);
  const make = (identity: Identity, extra: Partial<ConstructorParameters<typeof SecureMessenger>[0]> = {}) =>
    new SecureMessenger({ identity, resolver, clock, ...options, ...extra });
  return { clock, alice, bob, carol, resolver, aliceM: make(alice), bobM: make(bob), carolM: make(carol), make };
}

const flip = (s: string, i: number) => s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 1) + s.slice(i + 1);

describe('SecureMessenger', () => {
  it('round-trips a message and names the verified sender', async () => {
    const { alice, bob, aliceM, bobM, clock } = setup();
    const envelope = await aliceM.seal(bob.id, { text: 'hello', n: [1, 2] });
    expect(envelope).toMatchObject({ v: 1, suite: 'X25519-SHA256-CHACHA20POLY1305', from: alice.id, to: bob.id, seq: 0 });
    expect(JSON.stringify(envelope)).not.toContain('hello');
    const opened = await bobM.open(JSON.parse(JSON.stringify(envelope)));
    expect(opened).toEqual({ id: envelope.id, from: alice.id, to: bob.id, message: { text: 'hello', n: [1, 2] }, sentAt: clock.now() });
  });

  it('reuses one signed HPKE context per conversation, and a fresh one per message when sessionTtlSec is 0', async () => {
    const s = setup();
    const a = await s.aliceM.seal(s.bob.id, 1);
    const b = await s.aliceM.seal(s.bob.id, 2);
    expect(b.enc).toBe(a.enc);
    expect(b.seq).toBe(1);
    // Out of order is fine.
    expect((await s.bobM.open(b)).message).toBe(2);
    expect((await s.bobM.open(a)).message).toBe(1);
    // A receiver that lost its session cache (restart) still opens it.
    expect((await s.make(s.bob).open(await s.aliceM.seal(s.bob.id, 3))).message).toBe(3);
    // The session is renewed after its lifetime.
    s.clock.advance(600_000);
    expect((await s.aliceM.seal(s.bob.id, 4)).enc).not.toBe(a.enc);

    const oneShot = setup({ sessionTtlSec: 0 });
    const c = await oneShot.aliceM.seal(oneShot.bob.id, 1);
    const d = await oneShot.aliceM.seal(oneShot.bob.id, 2);
    expect(d.enc).not.toBe(c.enc);
    expect(d.sig).not.toBe(c.sig);
    expect((await oneShot.bobM.open(d)).message).toBe(2);
  });

  it('works with every AEAD suite', async () => {
    for (const aead of [1, 2, 3] as const) {
      const s = setup();
      const envelope = await s.make(s.alice, { aead }).seal(s.bob.id, { aead });
      expect((await s.bobM.open(envelope)).message).toEqual({ aead });
    }
  });

  it('refuses every changed byte of every envelope field', async () => {
    const { bob, aliceM, bobM } = setup();
    const envelope = await aliceM.seal(bob.id, { text: 'flip me' });
    let attempts = 0;
    for (const field of ['suite', 'id', 'from', 'to', 'sentAt', 'enc', 'sessionAt', 'sig', 'seq', 'ct', 'v'] as const) {
      const value = String(envelope[field]);
      for (let i = 0; i < value.length; i++) {
        const changed = flip(value, i);
        const tampered = { ...envelope, [field]: typeof envelope[field] === 'number' ? Number(changed) : changed };
        attempts++;
        const code = await codeOf(bobM.open(tampered));
        if (!code || code === 'NOT_A_SOV_ERROR') throw new Error(`accepted or crashed with ${field} byte ${i}: ${String(code)}`);
      }
    }
    expect(attempts).toBeGreaterThan(300);
    expect((await bobM.open(envelope)).message).toEqual({ text: 'flip me' });
  });

  it('refuses a wrong recipient, a replay, an expired or future envelope, an unknown sender', async () => {
    const s = setup();
    const toBob = await s.aliceM.seal(s.bob.id, 'hi');
    expect(await codeOf(s.carolM.open(toBob))).toBe('WRONG_RECIPIENT');

    await s.bobM.open(toBob);
    expect(await codeOf(s.bobM.open(toBob))).toBe('REPLAY_DETECTED');

    const late = await s.aliceM.seal(s.bob.id, 'late');
    s.clock.advance(300_000);
    expect(await codeOf(s.bobM.open(late))).toBe('ENVELOPE_EXPIRED');

    const ahead = await s.make(s.alice, { clock: new ManualClock({ start: s.clock.now() + 60_000 }) }).seal(s.bob.id, 'ahead');
    expect(await codeOf(s.bobM.open(ahead))).toBe('ENVELOPE_EXPIRED');

    const stranger = Identity.generate({ clock: s.clock });
    const strangerM = new SecureMessenger({ identity: stranger, resolver: s.resolver, clock: s.clock, requireKnownSender: false });
    const fromStranger = await strangerM.seal(s.bob.id, 'who am I');
    expect(await codeOf(s.bobM.open(fromStranger))).toBe('UNKNOWN_SENDER');
    const lenient = new SecureMessenger({ identity: s.bob, resolver: s.resolver, clock: s.clock, requireKnownSender: false });
    expect((await lenient.open(fromStranger)).from).toBe(stranger.id);

    const forgedFrom = { ...(await s.aliceM.seal(s.bob.id, 'x')), from: s.carol.id };
    expect(await codeOf(s.bobM.open(forgedFrom))).toBe('SIGNATURE_INVALID');
    expect(await codeOf(s.bobM.open({ v: 2 }))).toBe('DECRYPTION_FAILED');
    expect(await codeOf(s.bobM.open('nonsense'))).toBe('DECRYPTION_FAILED');
    expect(await codeOf(s.aliceM.seal(stranger.id, 'to nobody'))).toBe('NOT_FOUND');
  });

  it('lets only one of two racing copies of an envelope through', async () => {
    const s = setup();
    const envelope = await s.aliceM.seal(s.bob.id, 'once');
    const results = await Promise.allSettled([s.bobM.open(envelope), s.bobM.open(envelope)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('caches peer keys (bounded, with expiry) so a conversation looks each peer up once', async () => {
    const s = setup();
    const calls: string[] = [];
    const counting: PeerKeyResolver = { resolve: (id) => (calls.push(id), s.resolver.resolve(id)) };
    const aliceM = new SecureMessenger({ identity: s.alice, resolver: counting, clock: s.clock, peerCache: { maxEntries: 1, ttlMs: 60_000 } });
    const envelopes: SealedEnvelope[] = await Promise.all(Array.from({ length: 20 }, (_, i) => aliceM.seal(s.bob.id, i)));
    expect(calls).toEqual([s.bob.id]);
    for (const e of envelopes) await s.bobM.open(e);
    await aliceM.seal(s.carol.id, 'evicts bob');
    await aliceM.seal(s.bob.id, 'again');
    expect(calls).toEqual([s.bob.id, s.carol.id, s.bob.id]);
    s.clock.advance(60_000);
    await aliceM.seal(s.bob.id, 'expired entry');
    expect(calls).toHaveLength(4);
    const failing: PeerKeyResolver = { resolve: () => Promise.reject(new SovError('NOT_FOUND', 'gone')) };
    expect(await codeOf(new SecureMessenger({ identity: s.alice, resolver: failing, clock: s.clock }).seal(s.bob.id, 1))).toBe('NOT_FOUND');
  });
});
