import { createLogger } from '@sov/core';
import { ManualClock } from '@sov/core/internal';
import { RegistryServer } from '../registryServer';
import { ActivityCounter } from './activityCounter';

const silent = createLogger({ silent: true });

const register = (url: string, id: string) =>
  fetch(`${url}/v1/agents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: id, endpoint: 'http://127.0.0.1:9/', capabilities: ['c'] }),
  });

describe('the dashboard routes', () => {
  let registry: RegistryServer;
  afterEach(async () => registry?.close());

  it('serves the page and its assets with a strict Content-Security-Policy and no inline script', async () => {
    registry = await RegistryServer.start({ insecure: true, logger: silent });
    for (const path of ['/dashboard', '/dashboard/']) {
      const res = await fetch(`${registry.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-(inline|eval)/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await res.text();
      // Scripts only by src; no inline handlers or script bodies.
      expect(html).toMatch(/<script type="module" src="\/dashboard\/assets\/dashboard.js"><\/script>/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\son[a-z]+=/);
    }
    for (const [name, type] of [
      ['dashboard.js', 'text/javascript; charset=utf-8'],
      ['dashboard.css', 'text/css; charset=utf-8'],
      ['uPlot.esm.js', 'text/javascript; charset=utf-8'],
      ['uPlot.min.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await fetch(`${registry.url}/dashboard/assets/${name}`);
      expect({ name, status: res.status, type: res.headers.get('content-type') }).toEqual({ name, status: 200, type });
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
  });

  it('answers an unknown asset, or a path that tries to leave the folder, with ROUTE_NOT_FOUND in the wire format', async () => {
    registry = await RegistryServer.start({ insecure: true, logger: silent });
    for (const name of ['nope.js', '..%2Fpackage.json', '%2E%2E%2F%2E%2E%2Fpackage.json', 'index.html%00.js']) {
      const res = await fetch(`${registry.url}/dashboard/assets/${name}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ success: false, error: { code: 'ROUTE_NOT_FOUND', message: expect.stringContaining('No dashboard asset') } });
    }
  });

  it('counts registrations, departures and searches per 10 s bucket in GET /v1/stats, leaving out the page refreshes', async () => {
    const clock = new ManualClock({ start: Date.parse('2026-01-01T00:00:00Z') });
    registry = await RegistryServer.start({ insecure: true, logger: silent, clock, searchCacheMs: 0 });
    await register(registry.url, 'a');
    await register(registry.url, 'b');
    await fetch(`${registry.url}/v1/agents?capability=c`);
    clock.set(Date.parse('2026-01-01T00:00:25Z'));
    await fetch(`${registry.url}/v1/agents`);
    await fetch(`${registry.url}/v1/agents`, { headers: { 'x-dashboard-poll': '1' } });
    await fetch(`${registry.url}/v1/agents?limit=nope`); // refused: not a search served
    await fetch(`${registry.url}/v1/agents/a`, { method: 'DELETE' });
    const res = await fetch(`${registry.url}/v1/stats`);
    const { stats } = (await res.json()) as { stats: { bucketMs: number; starts: number[]; registrations: number[]; departures: number[]; searches: number[] } };
    expect(stats.bucketMs).toBe(10_000);
    expect(stats.starts).toHaveLength(60);
    expect(stats.starts.at(-1)).toBe(Date.parse('2026-01-01T00:00:20Z'));
    expect(stats.registrations.slice(-3)).toEqual([2, 0, 0]);
    expect(stats.searches.slice(-3)).toEqual([1, 0, 1]);
    expect(stats.departures.slice(-3)).toEqual([0, 0, 1]);
  });

  it('is not served with dashboard: false', async () => {
    registry = await RegistryServer.start({ insecure: true, logger: silent, dashboard: false });
    for (const path of ['/dashboard', '/dashboard/assets/dashboard.js', '/v1/stats']) {
      const res = await fetch(`${registry.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
    }
  });
});

describe('ActivityCounter', () => {
  it('keeps the last buckets only, and empty buckets read as 0', () => {
    const counter = new ActivityCounter(1000, 3);
    counter.record('searches', 500);
    counter.record('searches', 900);
    counter.record('registrations', 1500);
    expect(counter.snapshot(2100)).toEqual({ bucketMs: 1000, starts: [0, 1000, 2000], registrations: [0, 1, 0], departures: [0, 0, 0], searches: [2, 0, 0] });
    // Four buckets later the slot of bucket 0 is reused: its old counts are gone.
    counter.record('searches', 3200);
    expect(counter.snapshot(3900)).toEqual({ bucketMs: 1000, starts: [1000, 2000, 3000], registrations: [1, 0, 0], departures: [0, 0, 0], searches: [0, 0, 1] });
    expect(counter.snapshot(60_000).searches).toEqual([0, 0, 0]);
  });
});
