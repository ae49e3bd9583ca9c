import type { ServerResponse } from 'node:http';
import { Counter, Registry } from 'prom-client';
import type { RegistryEvent, RegistryEventType } from '@sov/core';
import { ManualClock } from '@sov/core/internal';
import { MemoryRegistryStore } from '../memoryRegistryStore';
import { EventHub, type Subscriber } from './eventHub';

/** A stream that records what is written to it. */
function stream(): { res: ServerResponse; written: string[]; ended: () => boolean } {
  const written: string[] = [];
  let ended = false;
  const res = {
    write: (chunk: string) => written.push(chunk),
    end: () => {
      ended = true;
    },
  } as unknown as ServerResponse;
  return { res, written, ended: () => ended };
}

function subscriber(res: ServerResponse, fields: Partial<Subscriber> = {}): Subscriber {
  return { types: undefined, caller: undefined, res, lastSent: 0, pending: undefined, ...fields };
}

const idsIn = (written: string[]): string[] => written.flatMap((w) => /^id: (\d+)/.exec(w)?.[1] ?? []);

describe('EventHub', () => {
  let store: MemoryRegistryStore;
  let clock: ManualClock;
  let seen: RegistryEventType[];
  let published: Counter<'type'>;
  let hub: EventHub;

  beforeEach(async () => {
    store = new MemoryRegistryStore();
    await store.open();
    clock = new ManualClock({ start: Date.parse('2025-01-01T00:00:00Z') });
    seen = [];
    published = new Counter({ name: 'events_total', help: 'events', labelNames: ['type'], registers: [new Registry()] });
    hub = new EventHub({ store, clock, keepAliveMs: 100, published, beforeEvent: (type) => seen.push(type) });
  });

  afterEach(() => hub.close());

  it('appends a published event to the store, counts it, and hands it to listeners and matching streams', async () => {
    const events: RegistryEvent[] = [];
    hub.onEvent((e) => events.push(e));
    const all = stream();
    const stakes = stream();
    hub.add(subscriber(all.res));
    hub.add(subscriber(stakes.res, { types: new Set(['stake_changed']) }));
    await hub.publish('peer_left', { peer_id: 'a', reason: 'deregistered' });
    expect(seen).toEqual(['peer_left']);
    expect((await store.eventsAfter('0')).events.map((e) => e.type)).toEqual(['peer_left']);
    expect((await published.get()).values).toEqual([expect.objectContaining({ labels: { type: 'peer_left' }, value: 1 })]);
    expect(events.map((e) => e.data)).toEqual([{ peer_id: 'a', reason: 'deregistered' }]);
    expect(all.written).toEqual([`id: ${events[0]!.id}\nevent: peer_left\ndata: ${JSON.stringify({ at: '2025-01-01T00:00:00.000Z', data: events[0]!.data })}\n\n`]);
    expect(stakes.written).toEqual([]);
  });

  it('sends a routed request only to the stream its target agent opened', async () => {
    const target = stream();
    const other = stream();
    hub.add(subscriber(target.res, { caller: 'b' }));
    hub.add(subscriber(other.res, { caller: 'c' }));
    await hub.publish('new_request', { peer_id: 'b', request_id: 'r1', from: null });
    expect(target.written).toHaveLength(1);
    expect(other.written).toEqual([]);
  });

  it('holds live events for a stream being replayed, then sends the replay and the held ones once each, in order', async () => {
    await hub.publish('peer_left', { peer_id: 'a', reason: 'deregistered' });
    const s = stream();
    const sub = subscriber(s.res, { pending: [] });
    hub.add(sub);
    await hub.publish('peer_left', { peer_id: 'b', reason: 'deregistered' });
    expect(s.written).toEqual([]);
    // The replay, read after the second event came, holds it as well as the pending list: it is sent once.
    const replay = await store.eventsAfter('0');
    expect(replay.events).toHaveLength(2);
    hub.goLive(sub, replay.events);
    expect(idsIn(s.written)).toEqual(['1', '2']);
    await hub.publish('peer_left', { peer_id: 'c', reason: 'deregistered' });
    expect(idsIn(s.written)).toEqual(['1', '2', '3']);
  });

  it('writes a keep-alive comment every keepAliveMs, and on close ends the streams and stops', async () => {
    const s = stream();
    hub.add(subscriber(s.res));
    hub.startKeepAlive();
    await clock.advanceAsync(250);
    expect(s.written).toEqual([': keep-alive\n\n', ': keep-alive\n\n']);
    hub.close();
    expect(s.ended()).toBe(true);
    expect(hub.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
