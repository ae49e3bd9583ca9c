import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('pnpm demo', () => {
  it('runs every step end to end and exits 0', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'demo.ts')], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Registry listening at http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/searched the registry for "text\.uppercase": 1 match, "uppercaser"/);
    expect(run.stdout).toContain('got back "HELLO, SOVEREIGN AGENTS"');
    expect(run.stdout).toContain('Demo finished: every step passed.');
  });
});
