import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRegistryBin } from './internal/runningBin';

const bin = join(__dirname, 'bin.ts');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('sov-registry bin', () => {
  it.each([
    [['--port', 'abc'], /--port must be an integer from 0 to 65535 \(got "abc"\)/],
    [['--port', '70000'], /--port must be an integer/],
    [['--default-ttl', '0'], /--default-ttl must be a positive integer/],
    [['--colour', 'red'], /Unknown option '--colour'/],
    [['--store', 'mongo'], /--store must be embedded, memory or postgres \(got "mongo"\)/],
    [['--store', 'postgres'], /--store postgres needs --database-url <postgres:\/\/\.\.\.> \(or SOV_REGISTRY_DATABASE_URL\)/],
    [['--store', 'embedded', '--memory'], /--memory and --store embedded contradict each other/],
  ])('refuses %j with exit code 2 and a message', (args, message) => {
    const out = run(...args);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stderr).toContain('Usage: sov-registry');
  });

  it('tells a project without @sov/registry-postgres which package --store postgres needs (the registry does not depend on pg)', () => {
    // A project directory outside this workspace, and no NODE_PATH (the test runner's would reach the workspace's packages).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_PATH'));
    const tsx = pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
    const out = spawnSync(process.execPath, ['--import', tsx, bin, '--store', 'postgres', '--database-url', 'postgres://127.0.0.1:1/none'], {
      encoding: 'utf8',
      timeout: 20_000,
      cwd: tmpdir(),
      env,
    });
    expect(out.stderr).toMatch(/--store postgres needs the package @sov\/registry-postgres, which is not installed: npm install @sov\/registry-postgres/);
    expect(out.status).toBe(2);
  });

  it('serves on the given port and stops cleanly on SIGTERM', async () => {
    const { child, url } = await startRegistryBin(['--port', '0', '--host', '127.0.0.1', '--memory']);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
