/**
 * The registry as an A2A directory: an agent built with the official
 * @a2a-js/sdk registers its card (unverified), is found by skill and called
 * through its card; one of our agents registers signed (verified, with its
 * stake and reputation); every refusal changes nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, createLogger } from '@sov/core';
import { a2a } from '@sov/a2a';
import { Identity } from '@sov/crypto';
import type { A2aDirectoryEntry } from '@sov/registry';
import { serviceRouter } from '@sov/services';
import { TestRegistry } from '@sov/testing';
import { startSdkAgent, type SdkAgent } from './a2aSdkAgent';

interface Answer {
  status: number;
  body: { success: boolean; agent?: A2aDirectoryEntry; agents?: A2aDirectoryEntry[]; error?: { code: string; message: string } };
}

describe('the registry is an A2A directory', () => {
  let registry: TestRegistry;
  let sdk: SdkAgent;
  let ours: Agent;
  let caller: Agent;
  let odd: Server;
  let oddUrl: string;
  const oursIdentity = Identity.generate();

  async function register(cardUrl: unknown, signer?: Identity): Promise<Answer> {
    const url = `${registry.url}/v1/a2a/agents`;
    const body = Buffer.from(JSON.stringify({ cardUrl }));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signer) Object.assign(headers, signer.signer.sign({ method: 'POST', url, body, headers }));
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  }

  async function search(query: string): Promise<Answer> {
    const res = await fetch(`${registry.url}/v1/a2a/agents${query}`);
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  }

  beforeAll(async () => {
    registry = await TestRegistry.start();
    sdk = await startSdkAgent();
    ours = new Agent({ name: 'texter', identity: oursIdentity, port: 0, host: '127.0.0.1', allowAnonymous: true, logger: createLogger({ silent: true }) });
    const services = ours.use(serviceRouter());
    services.register<{ text: string }, { text: string }>({ name: 'uppercase', price: 2, handler: ({ text }) => ({ text: text.toUpperCase() }) });
    ours.use(a2a({ services, tags: ['text'] }));
    await ours.start();
    caller = new Agent({ name: 'caller', identity: Identity.generate(), port: 0, host: '127.0.0.1', logger: createLogger({ silent: true }) });
    caller.use(a2a({ services: serviceRouter().api }));
    await caller.start();
    // Answers that are not cards: a redirect, a body too large, text.
    odd = createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: sdk.cardUrl }).end();
      else if (req.url === '/huge') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'x'.repeat(70_000) }));
      else if (req.url === '/text') res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'no interfaces', skills: [] }));
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await caller.shutdown();
    await ours.shutdown();
    await sdk.close();
    await new Promise((resolve) => odd.close(resolve));
    await registry.stop();
  });

  it('an A2A-only agent registers its card unsigned: fetched from its URL, listed unverified, without stake or reputation', async () => {
    const answer = await register(sdk.cardUrl);
    expect(answer.status).toBe(201);
    expect(answer.body.agent).toMatchObject({ cardUrl: sdk.cardUrl, verified: false, name: 'sdk-brewer' });
    expect(answer.body.agent!.reputation).toBeUndefined();
    expect(answer.body.agent!.stake).toBeUndefined();
  });

  it('is found by skill and capability (a tag), and called through its card', async () => {
    const bySkill = await search('?skill=brew');
    expect(bySkill.body.agents!.map((a) => a.cardUrl)).toEqual([sdk.cardUrl]);
    const byTag = await search('?capability=tea');
    expect(byTag.body.agents!.map((a) => a.name)).toEqual(['sdk-brewer']);
    expect((await search('?skill=brew&capability=text')).body.agents!.length).toBe(1);
    expect((await search('?skill=juggle')).body.agents).toEqual([]);

    const found = bySkill.body.agents![0]!;
    await expect(caller.call(found.cardUrl, 'brew', { leaves: 'genmaicha' })).resolves.toEqual({ brewed: 'genmaicha', cups: 2 });
  });

  it('serves the card of each registered agent', async () => {
    const found = (await search('?skill=brew')).body.agents![0]!;
    const served = (await (await fetch(`${registry.url}${found.registryCardPath}`)).json()) as { name: string; skills: unknown[] };
    const original = (await (await fetch(sdk.cardUrl)).json()) as { name: string; skills: unknown[] };
    expect(served).toEqual(original);
    const missing = await fetch(`${registry.url}/v1/a2a/agents/nope/agent-card.json`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Answer['body']).error!.code).toBe('NOT_FOUND');
  });

  it('our agent registers signed by the did its card names: verified, with its stake and reputation; min reputation and max price filter', async () => {
    await registry.creditStake(oursIdentity.id, 300);
    const answer = await register(`${ours.url}/.well-known/agent-card.json`, oursIdentity);
    expect(answer.status).toBe(201);
    expect(answer.body.agent).toMatchObject({ verified: true, agentId: oursIdentity.id, stake: 300, reputation: 0.5 });
    expect(answer.body.agent!.skills).toEqual([{ id: 'uppercase', name: 'uppercase', tags: ['uppercase', 'text'], price: 2 }]);

    expect((await search('?minReputation=0.4')).body.agents!.map((a) => a.agentId)).toEqual([oursIdentity.id]);
    expect((await search('?verified=false')).body.agents!.map((a) => a.name)).toEqual(['sdk-brewer']);
    expect((await search('?capability=text')).body.agents!.map((a) => a.name)).toEqual(['texter', 'sdk-brewer']);
    expect((await search('?skill=uppercase&maxPrice=1')).body.agents).toEqual([]);
    expect((await search('?skill=uppercase&maxPrice=2')).body.agents!.length).toBe(1);
    const found = (await search('?skill=uppercase')).body.agents![0]!;
    await expect(caller.call(found.cardUrl, 'uppercase', { text: 'via the directory' })).resolves.toEqual({ text: 'VIA THE DIRECTORY' });
  });

  it('refuses a signed registration of a card that names another did, and an unsigned one of a verified card', async () => {
    const cardUrl = `${ours.url}/.well-known/agent-card.json`;
    const before = await search('');
    const stranger = await register(cardUrl, Identity.generate());
    expect(stranger.status).toBe(403);
    expect(stranger.body.error!.code).toBe('ID_MISMATCH');
    const unsigned = await register(cardUrl);
    expect(unsigned.body.error!.code).toBe('ID_MISMATCH');
    const signedForeign = await register(sdk.cardUrl, oursIdentity);
    expect(signedForeign.body.error!.code).toBe('ID_MISMATCH');
    expect((await search('')).body.agents!.map((a) => [a.cardUrl, a.verified])).toEqual(before.body.agents!.map((a) => [a.cardUrl, a.verified]));
  });

  it('fetches cards with SSRF care: http(s) only, no link-local or unspecified addresses, no redirects, a size cap, JSON cards only', async () => {
    const before = (await search('')).body.agents!.length;
    const cases: Array<[unknown, string]> = [
      ['file:///etc/passwd', 'INVALID_INPUT'],
      ['gopher://127.0.0.1/', 'INVALID_INPUT'],
      ['http://169.254.169.254/latest/meta-data', 'INVALID_INPUT'],
      ['http://0.0.0.0:80/', 'INVALID_INPUT'],
      ['http://[fe80::1]/card', 'INVALID_INPUT'],
      ['http://user:pw@127.0.0.1/', 'INVALID_INPUT'],
      [42, 'INVALID_INPUT'],
      [`${oddUrl}/redirect`, 'UNAVAILABLE'],
      [`${oddUrl}/huge`, 'UNAVAILABLE'],
      [`${oddUrl}/text`, 'UNAVAILABLE'],
      [`${oddUrl}/not-a-card`, 'INVALID_INPUT'],
      ['http://127.0.0.1:1/closed', 'UNAVAILABLE'],
    ];
    for (const [cardUrl, code] of cases) {
      const answer = await register(cardUrl);
      expect([String(cardUrl), answer.body.success, answer.body.error?.code]).toEqual([String(cardUrl), false, code]);
    }
    expect((await search('')).body.agents!.length).toBe(before);
  });

  it('refuses bad searches with INVALID_INPUT naming each field', async () => {
    const answer = await search('?minReputation=high&maxPrice=-1&limit=0&verified=maybe&colour=red');
    expect(answer.status).toBe(400);
    expect(answer.body.error!.code).toBe('INVALID_INPUT');
    for (const field of ['/minReputation', '/maxPrice', '/limit', '/verified', '/colour']) expect(answer.body.error!.message).toContain(field);
  });
});
