import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('pnpm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sov-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)('serves /health and stops cleanly on %s', async (signal) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'main.ts')], {
      env: { ...process.env, SOV_PORT: '0', SOV_REGISTRY_PORT: '0', SOV_DATA_DIR: dataDir, SOV_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const health = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"health":"(http:\/\/[^"]+)"/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
    });
    const res = await fetch(health);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
    // The key file is private to its owner.
    expect(statSync(join(dataDir, 'keys', 'agent.json')).mode & 0o777).toBe(0o600);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill(signal);
    expect(await exited).toBe(0);
    expect(out).toContain('"message":"deregistered"');
  });
});
