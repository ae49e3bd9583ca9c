import { type SovError } from '@sov/core';
import { Identity } from './identity';
import { ReplayWindow, REPLAY_WINDOW_SIZE } from './internal/replayWindow';
import { ManualClock } from '@sov/core/internal';
import { SessionTable } from './sessionTable';

const offerOf = (identity: Identity, peer: string, receiverId: string) => {
  const initiator = identity.createSessionAuthenticator();
  const offer = initiator.offer(peer, receiverId);
  return { initiator, offer, body: JSON.parse(Buffer.from(offer.body).toString()) as unknown };
};

describe('ReplayWindow (the sequence numbers of one session)', () => {
  it('takes each number once, in any order inside the window, and refuses what fell behind it', () => {
    const w = new ReplayWindow();
    expect([5, 3, 4, 1, 2].map((n) => w.accept(n))).toEqual(['fresh', 'fresh', 'fresh', 'fresh', 'fresh']);
    expect([3, 5, 1].map((n) => w.accept(n))).toEqual(['replay', 'replay', 'replay']);
    expect(w.accept(5 + REPLAY_WINDOW_SIZE)).toBe('fresh');
    expect(w.accept(5)).toBe('stale');
    expect(w.accept(6)).toBe('fresh');
    expect(w.accept(6)).toBe('replay');
    // A jump past the whole window forgets the bitmap but not the order.
    expect(w.accept(10 * REPLAY_WINDOW_SIZE)).toBe('fresh');
    expect(w.accept(10 * REPLAY_WINDOW_SIZE - 1)).toBe('fresh');
    expect(w.accept(10 * REPLAY_WINDOW_SIZE - 1)).toBe('replay');
  });
});

describe('SessionTable (the receiver half)', () => {
  const receiver = Identity.generate();

  it('bounds the sessions of one caller: a new one drops its oldest', () => {
    const table = new SessionTable(receiver.id, (d) => receiver.sign(d), { maxPerCaller: 2 });
    const alice = Identity.generate();
    const ids = [0, 1, 2].map(() => (table.accept({ id: alice.id, keyId: alice.id }, offerOf(alice, 'p', receiver.id).body).session as { id: string }).id);
    expect(table.get(ids[0]!)).toBeUndefined();
    expect(table.get(ids[1]!)).toBeDefined();
    expect(table.get(ids[2]!)).toBeDefined();
    expect(table.size).toBe(2);
  });

  it('bounds all sessions: expired ones go first, then the oldest', () => {
    const clock = new ManualClock({ start: Date.UTC(2025, 0, 1) });
    const table = new SessionTable(receiver.id, (d) => receiver.sign(d), { maxSessions: 3, ttlSec: 10, clock });
    const open = () => {
      const caller = Identity.generate();
      return (table.accept({ id: caller.id, keyId: caller.id }, offerOf(caller, 'p', receiver.id).body).session as { id: string }).id;
    };
    const old = open();
    clock.advance(11_000);
    const a = open();
    const b = open();
    const c = open();
    expect(table.get(old)).toBeUndefined();
    expect([a, b, c].every((id) => table.get(id))).toBe(true);
    const d = open();
    expect(table.get(a)).toBeUndefined();
    expect(table.get(d)).toBeDefined();
    expect(table.size).toBe(3);
  });

  it('refuses a handshake made under a session, and bad options', () => {
    const table = new SessionTable(receiver.id, (d) => receiver.sign(d));
    const alice = Identity.generate();
    expect(() => table.accept({ id: alice.id, keyId: 's_x', session: 's_x' }, offerOf(alice, 'p', receiver.id).body)).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED' }) as SovError,
    );
    expect(() => new SessionTable(receiver.id, (d) => receiver.sign(d), { ttlSec: 0 })).toThrow(/ttlSec must be a whole number >= 1/);
    expect(() => new SessionTable(receiver.id, (d) => receiver.sign(d), { maxSessions: 1.5 })).toThrow(/maxSessions/);
  });

  it('refuses an ephemeral key that gives no shared secret (a low-order point)', () => {
    const table = new SessionTable(receiver.id, (d) => receiver.sign(d));
    const alice = Identity.generate();
    expect(() => table.accept({ id: alice.id, keyId: alice.id }, { v: 1, ephemeral: Buffer.alloc(32).toString('base64url') })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }) as SovError,
    );
    expect(table.size).toBe(0);
  });
});

describe('SessionInitiator (the caller half)', () => {
  it('stops using a session renewBeforeSec before it expires, so a new handshake comes first', () => {
    const clock = new ManualClock({ start: Date.now() });
    const receiver = Identity.generate({ clock });
    const alice = Identity.generate({ clock });
    const table = new SessionTable(receiver.id, (d) => receiver.sign(d), { ttlSec: 100, clock });
    const initiator = alice.createSessionAuthenticator({ renewBeforeSec: 30 });
    const offer = initiator.offer('peer', receiver.id);
    offer.complete(table.accept({ id: alice.id, keyId: alice.id }, JSON.parse(Buffer.from(offer.body).toString()) as unknown));
    const request = { method: 'POST', url: 'http://127.0.0.1:1/rpc', body: Buffer.from('{}'), headers: {} };
    expect(initiator.sign('peer', request)).toBeDefined();
    clock.advance(69_000);
    expect(initiator.sign('peer', request)?.['Signature-Input']).toMatch(/nonce="2";alg="hmac-sha256"/);
    clock.advance(2_000);
    expect(initiator.sign('peer', request)).toBeUndefined();
    expect(initiator.sessionWith('peer')).toBeUndefined();
  });

  it('forgets only the session named, when one is named', () => {
    const receiver = Identity.generate();
    const alice = Identity.generate();
    const table = new SessionTable(receiver.id, (d) => receiver.sign(d));
    const initiator = alice.createSessionAuthenticator();
    const offer = initiator.offer('peer', receiver.id);
    offer.complete(table.accept({ id: alice.id, keyId: alice.id }, JSON.parse(Buffer.from(offer.body).toString()) as unknown));
    const id = initiator.sessionWith('peer')!;
    initiator.forget('peer', 's_someoneElse');
    expect(initiator.sessionWith('peer')).toBe(id);
    initiator.forget('peer', id);
    expect(initiator.sessionWith('peer')).toBeUndefined();
  });

  it('refuses bad options', () => {
    expect(() => Identity.generate().createSessionAuthenticator({ renewBeforeSec: -1 })).toThrow(/renewBeforeSec/);
  });
});
