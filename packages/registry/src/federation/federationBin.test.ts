import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity } from '@sov/crypto';
import { startRegistryBin } from '../internal/runningBin';

const bin = join(__dirname, '..', 'bin.ts');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('sov-registry federation flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sov-registry-fed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [['--peer', 'http://127.0.0.1:7001'], /--peer must be <url>=<did:key>/],
    [['--peer', 'not-a-url=did:key:z6Mkxyz'], /--peer must be <url>=<did:key>/],
    [['--identity', 'x.json', '--max-hops', '0'], /--max-hops must be an integer from 1 to 16 \(got "0"\)/],
    [['--peer', `http://127.0.0.1:7001=${Identity.generate().id}`], /--peer needs --identity/],
  ])('refuses %j with exit code 2 and a message', (args, message) => {
    const out = run('--memory', ...args);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  it('--identity creates the key file (0600) and serves its did:key at /.well-known/sov-registry', async () => {
    const file = join(dir, 'registry.json');
    const peer = Identity.generate().id;
    const { child, url } = await startRegistryBin(['--port', '0', '--memory', '--identity', file, '--peer', `http://127.0.0.1:9=${peer}`]);
    try {
      const id = (await Identity.load(file)).id;
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const known = (await (await fetch(`${url}/.well-known/sov-registry`)).json()) as { registry: { id: string } };
      expect(known.registry.id).toBe(id);
      const peers = (await (await fetch(`${url}/v1/federation/peers`)).json()) as { peers: Array<{ id: string; status: string }> };
      expect(peers.peers).toEqual([expect.objectContaining({ id: peer, url: 'http://127.0.0.1:9', status: 'pending' })]);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
