import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '@sov/core';
import { federationNet, serviceAgent } from './federationNet';

/** The README's example, run as written there with the two registry URLs swapped for real registries on free ports. */
describe('README example', () => {
  let net: Awaited<ReturnType<typeof federationNet>>;
  let translator: Agent;
  const file = join(__dirname, '..', '..', `readme-example-${process.pid}.mts`);

  beforeAll(async () => {
    net = await federationNet(['A', 'B'], [['A', 'B']]);
    translator = await serviceAgent('translator', net.reg.B!.url, 'translate', { price: 20, handler: () => ({ text: 'hello' }) });
  });
  afterAll(async () => {
    rmSync(file, { force: true });
    await translator?.shutdown();
    await net?.close();
  });

  it('finds the translator only the second registry knows, calls it, and checks the route receipt', async () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
      .replaceAll('http://127.0.0.1:7000', net.reg.A!.url)
      .replaceAll('http://127.0.0.1:7001', net.reg.B!.url)
      .replace("from '@sov/federation'", `from ${JSON.stringify(join(__dirname, '..', 'index.ts'))}`)
      // Quiet logs: only the example's own lines on stdout.
      .replace("identity: Identity.generate() }", "identity: Identity.generate(), logLevel: 'error' }");
    writeFileSync(file, code);
    // In a child process, asynchronously: the registries it talks to live in this one.
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: join(__dirname, '..', '..'), timeout: 30_000 });
    const out = { stdout: '', stderr: '', status: null as number | null };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    out.status = await new Promise<number | null>((r) => child.once('exit', r));
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const lines = out.stdout.split('\n').filter((l) => /^(found|call|transaction) /.test(l));
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^found translator at ${net.reg.B!.url} score 0\\.\\d\\d$`)),
      'call {"text":"hello"}',
      'transaction {"text":"hello"} hops 2 receipt valid true',
    ]);
  });
});
