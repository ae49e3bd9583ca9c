import { HttpRegistryClient, createLogger, type RegistryEvent } from '@sov/core';
import { RegistryServer } from '@sov/registry';
import { waitFor } from '@sov/testing';
import { tcpProxy } from './tcpProxy';

describe('RegistryClient.subscribe', () => {
  it('loses no event when its connection is dropped mid-stream', async () => {
    const registry = await RegistryServer.start({ insecure: true, logger: createLogger({ silent: true }) });
    const proxy = await tcpProxy(() => Number(new URL(registry.url).port));
    const direct = new HttpRegistryClient({ baseUrl: registry.url });
    const viaProxy = new HttpRegistryClient({ baseUrl: proxy.url });
    const seen: RegistryEvent[] = [];
    let connects = 0;
    const sub = viaProxy.subscribe({ types: ['peer_joined'], reconnectDelayMs: 50 });
    (sub as unknown as { onConnect(l: () => void): void }).onConnect(() => connects++);
    sub.onEvent((e) => seen.push(e));
    await waitFor('the first connection', () => connects === 1);

    const reg = (id: string) => direct.register({ id, name: id, endpoint: 'http://127.0.0.1:1', capabilities: ['c'] });
    for (let i = 0; i < 5; i++) await reg(`before-${i}`);
    await waitFor('5 events', () => seen.length === 5);
    proxy.cut();
    // Registered while the subscriber is disconnected: must arrive after it resumes.
    for (let i = 0; i < 5; i++) await reg(`during-${i}`);
    await waitFor('the reconnection', () => connects >= 2);
    for (let i = 0; i < 5; i++) await reg(`after-${i}`);
    await waitFor('15 events', () => seen.length >= 15);

    expect(seen.map((e) => e.data.peer_id)).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `during-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `after-${i}`),
    ]);
    const ids = seen.map((e) => Number(e.id));
    expect(new Set(ids).size).toBe(15);
    expect(sub.lastEventId).toBe(seen[14]!.id);
    await sub.close();
    await proxy.close();
    await registry.close();
  });

  it('resumes a new subscription from a saved lastEventId', async () => {
    const registry = await RegistryServer.start({ insecure: true, logger: createLogger({ silent: true }) });
    const client = new HttpRegistryClient({ baseUrl: registry.url });
    await client.register({ id: 'a', name: 'a', endpoint: 'http://127.0.0.1:1', capabilities: [] });
    await client.deregister('a');
    const seen: RegistryEvent[] = [];
    const sub = client.subscribe({ lastEventId: '1' });
    sub.onEvent((e) => seen.push(e));
    await waitFor('the event', () => seen.length === 1);
    expect(seen[0]).toMatchObject({ id: '2', type: 'peer_left', data: { peer_id: 'a', reason: 'deregistered' } });
    await sub.close();
    await registry.close();
  });
});
