import { createLogger } from '@sov/core';
import { ManualClock } from '@sov/core/internal';
import { RegistryServer } from './registryServer';

const silent = createLogger({ silent: true });
const registration = (id: string, capabilities: string[], extra: Record<string, unknown> = {}) => ({
  id,
  name: `agent-${id}`,
  endpoint: `http://127.0.0.1:9/${id}`,
  capabilities,
  ...extra,
});

async function getJson(url: string): Promise<Record<string, any>> {
  return (await (await fetch(url)).json()) as Record<string, any>;
}

async function post(url: string, body: unknown, raw = false) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('RegistryServer', () => {
  let registry: RegistryServer;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock({ start: Date.parse('2026-01-01T00:00:00Z') });
    registry = await RegistryServer.start({ clock, logger: silent, sweepIntervalMs: 1000, defaultTtlSec: 10, insecure: true });
  });
  afterEach(() => registry.close());

  it('registers, finds by every requested capability, and deregisters', async () => {
    expect((await post(`${registry.url}/v1/agents`, registration('a', ['summarise', 'translate']))).status).toBe(201);
    await post(`${registry.url}/v1/agents`, registration('b', ['summarise']));
    const both = await getJson(`${registry.url}/v1/agents?capability=summarise`);
    expect(both.total).toBe(2);
    const one = await getJson(`${registry.url}/v1/agents?capability=summarise&capability=translate`);
    expect(one.agents.map((a: { id: string }) => a.id)).toEqual(['a']);
    expect((await fetch(`${registry.url}/v1/agents/a`, { method: 'DELETE' })).status).toBe(200);
    const after = await getJson(`${registry.url}/v1/agents?capability=translate`);
    expect(after.total).toBe(0);
  });

  it('pages through results with a cursor and says how many matched', async () => {
    for (let i = 0; i < 5; i++) await post(`${registry.url}/v1/agents`, registration(`p${i}`, ['x']));
    const first = await getJson(`${registry.url}/v1/agents?capability=x&limit=2`);
    expect(first.total).toBe(5);
    expect(first.agents).toHaveLength(2);
    const ids = first.agents.map((a: { id: string }) => a.id);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await getJson(`${registry.url}/v1/agents?capability=x&limit=2&cursor=${cursor}`);
      ids.push(...page.agents.map((a: { id: string }) => a.id));
      cursor = page.nextCursor;
    }
    expect(ids.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  it('expires a lease that is not renewed, emits peer_left and drops it from search', async () => {
    const left: string[] = [];
    registry.onEvent((e) => e.type === 'peer_left' && left.push(e.data.peer_id));
    await post(`${registry.url}/v1/agents`, registration('kept', ['c'], { ttl: 10 }));
    await post(`${registry.url}/v1/agents`, registration('dropped', ['c'], { ttl: 10 }));
    await clock.advanceAsync(6000);
    expect((await post(`${registry.url}/v1/agents/kept/heartbeat`, {})).status).toBe(200);
    await clock.advanceAsync(5000); // dropped: 11 s without a heartbeat > ttl 10 s
    expect(left).toEqual(['dropped']);
    const page = await getJson(`${registry.url}/v1/agents?capability=c`);
    expect(page.agents.map((a: { id: string }) => a.id)).toEqual(['kept']);
    expect((await fetch(`${registry.url}/v1/agents/dropped`)).status).toBe(404);
    const beat = await post(`${registry.url}/v1/agents/dropped/heartbeat`, {});
    expect(beat.body.error.code).toBe('NOT_FOUND');
  });

  it('answers LEASE_EXPIRED to a heartbeat that comes after the lease but before the sweep', async () => {
    await registry.close();
    registry = await RegistryServer.start({ clock, logger: silent, sweepIntervalMs: 60_000, insecure: true });
    await post(`${registry.url}/v1/agents`, registration('late', ['c'], { ttl: 2 }));
    await clock.advanceAsync(3000);
    const beat = await post(`${registry.url}/v1/agents/late/heartbeat`, {});
    expect(beat.status).toBe(404);
    expect(beat.body.error.code).toBe('LEASE_EXPIRED');
  });

  describe('refuses bad input with 400, a code, and no change', () => {
    const cases: Array<[string, unknown, string, string]> = [
      ['malformed JSON', '{"id": "x",', 'INVALID_JSON', 'not valid JSON'],
      ['a body that is not an object', '[1,2]', 'INVALID_INPUT', 'must be object'],
      ['a missing id', { name: 'n', endpoint: 'http://a', capabilities: [] }, 'INVALID_INPUT', '/id'],
      ['a missing endpoint', { id: 'x', name: 'n', capabilities: [] }, 'INVALID_INPUT', '/endpoint'],
      ['capabilities of the wrong type', { id: 'x', name: 'n', endpoint: 'http://a', capabilities: 'c' }, 'INVALID_INPUT', '/capabilities'],
      ['an endpoint that is not a URL', { id: 'x', name: 'n', endpoint: 'ftp:/x', capabilities: [] }, 'INVALID_INPUT', '/endpoint'],
      ['a negative ttl', { id: 'x', name: 'n', endpoint: 'http://a', capabilities: [], ttl: -1 }, 'INVALID_INPUT', '/ttl'],
      ['an unknown field', { id: 'x', name: 'n', endpoint: 'http://a', capabilities: [], admin: true }, 'INVALID_INPUT', '/admin'],
      [
        'too many capabilities',
        { id: 'x', name: 'n', endpoint: 'http://a', capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`) },
        'INVALID_INPUT',
        '/capabilities',
      ],
    ];
    it.each(cases)('%s', async (_what, body, code, field) => {
      const res = await post(`${registry.url}/v1/agents`, typeof body === 'string' ? body : body, typeof body === 'string');
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toContain(field);
      expect(await registry.store.count()).toBe(0);
    });

    it('a body over the size limit gets 413', async () => {
      const res = await post(`${registry.url}/v1/agents`, registration('big', ['c'], { metadata: { blob: 'x'.repeat(70_000) } }));
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await registry.store.count()).toBe(0);
    });

    it('a non-JSON content type gets 415', async () => {
      const res = await fetch(`${registry.url}/v1/agents`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it.each([
      ['limit=abc', '/limit'],
      ['limit=0', '/limit'],
      ['minReputation=2', '/minReputation'],
      ['cursor=bogus', 'cursor'],
      ['colour=red', '/colour'],
    ])('a bad search query (%s)', async (qs, field) => {
      const res = await fetch(`${registry.url}/v1/agents?${qs}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('INVALID_INPUT');
      expect(body.error.message).toContain(field);
    });

    it('an unknown route gets 404 ROUTE_NOT_FOUND', async () => {
      const res = await fetch(`${registry.url}/v1/nothing`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
    });
  });
});
