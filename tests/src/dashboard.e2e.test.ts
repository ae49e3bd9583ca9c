import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Identity } from '@sov/crypto';
import { TestRegistry } from '@sov/testing';
import { tcpProxy, type TcpProxy } from './tcpProxy';

/**
 * The registry dashboard driven the way a person uses it, in headless
 * Chromium (Debian's package, driven by playwright-core, which downloads
 * nothing). CI installs Chromium in .ci/run; without it these tests fail.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'artifacts');
const XSS_NAME = '<img src=x onerror=alert(1)>';

jest.setTimeout(90_000);

interface Watch {
  dialogs: string[];
  errors: string[];
  csp: string[];
}

let registry: TestRegistry;
let proxy: TcpProxy;
let context: BrowserContext;
let profile: string;
const pricey = Identity.generate();
const cheap = Identity.generate();
const mallory = Identity.generate();

async function register(id: Identity, name: string, extra: Record<string, unknown> = {}) {
  await registry.client(id.signer).register({
    id: id.id,
    name,
    endpoint: `http://127.0.0.1:9/${name.length}`,
    capabilities: ['analyse'],
    services: [{ name: 'analyse', price: 5 }],
    ttl: 600,
    ...extra,
  });
}

/** Opens the dashboard in a new tab, watching for dialogs, page errors and CSP violations. */
async function open(): Promise<{ page: Page; watch: Watch }> {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const watch: Watch = { dialogs: [], errors: [], csp: [] };
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => watch.errors.push(e.message));
  await page.exposeFunction('reportCspViolation', (v: string) => watch.csp.push(v));
  await page.addInitScript("document.addEventListener('securitypolicyviolation', (e) => window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI));");
  const response = await page.goto(`${proxy.url}/dashboard`);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
  await page.locator('#stream-status[data-state=live]').waitFor();
  return { page, watch };
}

/** The little of the DOM these page functions use (this workspace compiles without the DOM types). */
interface PageGlobals {
  document: {
    querySelector(selector: string): { textContent: string | null } | null;
    querySelectorAll(selector: string): { length: number };
    cookie: string;
    documentElement: { outerHTML: string };
  };
  localStorage: object;
  sessionStorage: object;
}

// Functions, not strings: the dashboard's CSP forbids eval, and Playwright polls string conditions with eval.
const textIs = (page: Page, selector: string, text: string) =>
  page.waitForFunction(([sel, t]) => (globalThis as unknown as PageGlobals).document.querySelector(sel)?.textContent === t, [selector, text] as const);
const textHas = (page: Page, selector: string, text: string) =>
  page.waitForFunction(([sel, t]) => ((globalThis as unknown as PageGlobals).document.querySelector(sel)?.textContent ?? '').includes(t), [selector, text] as const);
const rowsAre = (page: Page, n: number) =>
  page.waitForFunction((count) => (globalThis as unknown as PageGlobals).document.querySelectorAll('#agents tbody tr').length === count, n);
const rowOf = (page: Page, name: string) => page.locator('#agents tbody tr').filter({ has: page.locator('td.name', { hasText: name }) });
const feedItems = (page: Page, type: string, peerId: string) => page.locator(`#feed li[data-type="${type}"][data-peer-id="${peerId}"]`);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium); .ci/run does this`);
  }
  registry = await TestRegistry.start({ operatorToken: 'op-secret' });
  proxy = await tcpProxy(() => Number(new URL(registry.url).port));
  await register(pricey, 'pricey-analyst', { capabilities: ['analyse', 'report'], services: [{ name: 'analyse', price: 50, requiresStake: true, minStake: 10 }] });
  await register(cheap, 'cheap-analyst', { services: [{ name: 'analyse', price: 2, description: 'quick look' }] });
  await registry.creditStake(pricey.id, 30);
  profile = await mkdtemp(join(tmpdir(), 'sov-dashboard-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
});

afterAll(async () => {
  await context?.close();
  await proxy?.close();
  await registry?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe('the registry dashboard in Chromium', () => {
  it('lists the agents with endpoint, capabilities, priced services, reputation, availability, stake and lease left', async () => {
    const { page, watch } = await open();
    const row = rowOf(page, 'pricey-analyst');
    await row.waitFor();
    expect(await row.locator('td.id').textContent()).toBe(pricey.id);
    expect(await row.locator('td.endpoint').textContent()).toBe('http://127.0.0.1:9/14');
    expect(await row.locator('td.capabilities').textContent()).toBe('analysereport');
    expect(await row.locator('td.services').textContent()).toBe('analyse (50)');
    expect(await row.locator('td.reputation').textContent()).toBe('0.50');
    expect(await row.locator('td.availability').textContent()).toBe('1.00');
    await textIs(page, `#agents td.stake[data-agent-id="${pricey.id}"]`, '30');
    expect(await row.locator('td.lease').textContent()).toMatch(/^\d+m \d+s$/);
    expect(await page.locator('#agents-summary').textContent()).toBe('2 agents match; 2 shown');
    // The per-agent chart and the activity chart are drawn.
    expect(await page.locator('#standing-chart canvas').count()).toBe(1);
    await page.locator('#activity-chart canvas').waitFor();
    expect(watch).toEqual({ dialogs: [], errors: [], csp: [] });
    await page.close();
  });

  it('searches by capability, minimum reputation and maximum price as the API does, and shows a refusal', async () => {
    const { page, watch } = await open();
    await rowOf(page, 'cheap-analyst').waitFor();
    const names = async () => page.locator('#agents tbody td.name').allTextContents();
    const search = async (fields: { capability?: string; minReputation?: string; maxPrice?: string }) => {
      await page.fill('#search-capability', fields.capability ?? '');
      await page.fill('#search-min-reputation', fields.minReputation ?? '');
      await page.fill('#search-max-price', fields.maxPrice ?? '');
      await page.click('#search-submit');
    };
    const before = await searchesCounted();

    await search({ capability: 'report' });
    await rowsAre(page, 1);
    expect(await names()).toEqual(['pricey-analyst']);

    await search({ capability: 'analyse', maxPrice: '10' });
    await textIs(page, '#agents tbody td.name', 'cheap-analyst');
    expect(await names()).toEqual(['cheap-analyst']);

    await search({ minReputation: '0.9' });
    await rowsAre(page, 0);
    expect(await page.locator('#agents-summary').textContent()).toBe('0 agents match; 0 shown');

    // The registry validates; the page shows its code and message.
    await search({ maxPrice: '1.5' });
    const error = page.locator('#search-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/^INVALID_INPUT: .*maxPrice/);

    // Searches typed into the page count in /v1/stats (the page's own refreshes do not).
    expect((await searchesCounted()) - before).toBeGreaterThanOrEqual(3);
    expect(watch).toEqual({ dialogs: [], errors: [], csp: [] });
    await page.close();
  });

  it('shows a live event after a registration, and the new agent in the list', async () => {
    const { page, watch } = await open();
    const newcomer = Identity.generate();
    await register(newcomer, 'newcomer');
    await feedItems(page, 'peer_joined', newcomer.id).waitFor();
    expect(await feedItems(page, 'peer_joined', newcomer.id).locator('.who').textContent()).toBe('newcomer');
    await rowOf(page, 'newcomer').waitFor();
    await registry.client(newcomer.signer).deregister(newcomer.id);
    await feedItems(page, 'peer_left', newcomer.id).waitFor();
    expect(await feedItems(page, 'peer_left', newcomer.id).locator('.what').textContent()).toBe('deregistered');
    expect(watch).toEqual({ dialogs: [], errors: [], csp: [] });
    await page.close();
  });

  it('reconnects after the stream is cut and loses nothing, also across a registry restart on the same port', async () => {
    const { page, watch } = await open();
    const status = page.locator('#stream-status');
    expect(await status.getAttribute('data-connects')).toBe('1');

    // Cut every connection and refuse new ones; an agent joins meanwhile.
    proxy.pause();
    await page.locator('#stream-status:not([data-state=live])').waitFor();
    const during = Identity.generate();
    await register(during, 'joined-while-cut');
    proxy.resume();
    await page.locator('#stream-status[data-state=live][data-connects="2"]').waitFor();
    // Replayed from Last-Event-ID: there, and once.
    await feedItems(page, 'peer_joined', during.id).waitFor();
    expect(await feedItems(page, 'peer_joined', during.id).count()).toBe(1);

    // The registry stops and starts again on the same port with its durable store.
    await registry.restart();
    await page.locator('#stream-status[data-state=live][data-connects="3"]').waitFor();
    const after = Identity.generate();
    await register(after, 'joined-after-restart');
    await feedItems(page, 'peer_joined', after.id).waitFor();
    expect(await feedItems(page, 'peer_joined', during.id).count()).toBe(1);
    await rowOf(page, 'joined-after-restart').waitFor();

    for (const id of [during, after]) await registry.client(id.signer).deregister(id.id);
    expect(watch).toEqual({ dialogs: [], errors: [], csp: [] });
    await page.close();
  });

  it('refuses a stake change without the operator token and makes it with the token, kept out of the URL and storage', async () => {
    const { page, watch } = await open();
    await rowOf(page, 'cheap-analyst').click();
    await textIs(page, '#detail-name', 'cheap-analyst');
    await textIs(page, '#stake-value', '0');
    expect(await page.locator('#detail-catalog tbody').textContent()).toBe('analysequick look2—');
    const result = page.locator('#stake-result');

    // Read-only: the registry refuses, and nothing changes.
    expect(await page.locator('#token-state').textContent()).toBe('read-only');
    await page.fill('#stake-amount', '40');
    await page.click('#stake-credit');
    await textHas(page, '#stake-result', 'refused');
    expect(await result.textContent()).toMatch(/^refused: UNAUTHORIZED: Stake changes need the operator token/);
    expect(await result.getAttribute('data-ok')).toBe('false');
    expect((await registry.client().getStake(cheap.id)).stake).toBe(0);

    // A wrong token is refused too.
    await page.fill('#token-input', 'guess');
    await page.click('#token-set');
    await page.click('#stake-credit');
    await textHas(page, '#stake-result', 'FORBIDDEN');
    expect((await registry.client().getStake(cheap.id)).stake).toBe(0);

    // With the operator token the credit is made, and the live event updates the list.
    await page.fill('#token-input', 'op-secret');
    await page.click('#token-set');
    expect(await page.locator('#token-state').textContent()).toBe('operator');
    expect(await page.inputValue('#token-input')).toBe('');
    await page.click('#stake-credit');
    await textIs(page, '#stake-result', 'credited 40: stake is now 40');
    expect((await registry.client().getStake(cheap.id)).stake).toBe(40);
    await textIs(page, `#agents td.stake[data-agent-id="${cheap.id}"]`, '40');
    await feedItems(page, 'stake_changed', cheap.id).first().waitFor();

    // The token is in a JS variable only: not in the URL, the storages or the DOM.
    expect(page.url()).not.toContain('op-secret');
    const stored = await page.evaluate(() => {
      const g = (globalThis as unknown as PageGlobals);
      return JSON.stringify([{ ...g.localStorage }, { ...g.sessionStorage }, g.document.cookie, g.document.documentElement.outerHTML]);
    });
    expect(stored).not.toContain('op-secret');

    // Forgetting it makes the page read-only again.
    await page.click('#token-clear');
    await page.click('#stake-credit');
    await textHas(page, '#stake-result', 'UNAUTHORIZED');
    expect((await registry.client().getStake(cheap.id)).stake).toBe(40);
    expect(watch).toEqual({ dialogs: [], errors: [], csp: [] });
    await page.close();
  });

  it(`shows an agent named ${XSS_NAME} (and markup in its metadata) as text: nothing runs`, async () => {
    await register(mallory, XSS_NAME, {
      capabilities: ['<b>bold</b>'],
      services: [{ name: '<svg onload=alert(2)>', price: 1, description: '<script>alert(3)</script>' }],
      metadata: { note: '<iframe src=javascript:alert(4)>' },
    });
    const { page, watch } = await open();
    const row = rowOf(page, XSS_NAME);
    await row.waitFor();
    expect(await row.locator('td.name').textContent()).toBe(XSS_NAME);
    expect(await row.locator('td.capabilities').textContent()).toBe('<b>bold</b>');
    expect(await row.locator('td.services').textContent()).toBe('<svg onload=alert(2)> (1)');
    expect(await feedItems(page, 'peer_joined', mallory.id).first().locator('.who').textContent()).toBe(XSS_NAME);
    await row.click();
    await textIs(page, '#detail-name', XSS_NAME);
    expect(await page.locator('#detail-metadata').textContent()).toContain('"note": "<iframe src=javascript:alert(4)>"');
    expect(await page.locator('#detail-catalog tbody').textContent()).toContain('<script>alert(3)</script>');
    // None of it became an element, so no handler can fire and no dialog opened.
    expect(await page.locator('main img, main svg, main iframe, main b, main script').count()).toBe(0);
    expect(await page.locator('img[src=x]').count()).toBe(0);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(watch).toEqual({ dialogs: [], errors: [], csp: [] });
    await page.close();
  });
});

/** Searches counted by GET /v1/stats over its window. */
async function searchesCounted(): Promise<number> {
  const res = await fetch(`${registry.url}/v1/stats`);
  const body = (await res.json()) as { stats: { searches: number[] } };
  return body.stats.searches.reduce((a, b) => a + b, 0);
}
