/**
 * The import cost of the kernel, counted in modules loaded (not time, which
 * is noisy): `require('@sov/core')` / `require('@sov/state')` and their ESM
 * import, each in a fresh node process from the built packages. The budget
 * is the one packages/core/README.md documents ("Import cost").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'packages', 'core', 'README.md'), 'utf8');
const budget = Number(/budget is \*\*(\d+) modules\*\*/.exec(readme)?.[1]);
const hooks = pathToFileURL(join(__dirname, '..', 'fixtures', 'countLoads.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'sov-import-cost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The files a fresh process loads for `name`, and the packages under node_modules they belong to. */
function loads(mode: 'require' | 'import', name: string): { modules: number; packages: string[] } {
  const report = `
    const files = [...new Set([...Object.keys(req.cache), ...esm()])];
    const pkgs = new Set(files.map((f) => /.*node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(f)?.[1] ?? '(workspace)'));
    console.log(JSON.stringify({ modules: files.length, packages: [...pkgs].sort() }));`;
  const out = join(dir, `${mode}-${name.replace('/', '_')}.txt`);
  const esm = `const esm = () => { try { return fs.readFileSync(${JSON.stringify(out)}, 'utf8').trim().split('\\n').filter(Boolean).map((u) => url.fileURLToPath(u)); } catch { return []; } };`;
  const script =
    mode === 'require'
      ? `const fs = require('node:fs'); const url = require('node:url'); const req = require; ${esm} require(${JSON.stringify(name)}); ${report}`
      : `import fs from 'node:fs'; import url from 'node:url'; import { createRequire } from 'node:module'; const req = createRequire(import.meta.url); ${esm} await import(${JSON.stringify(name)}); ${report}`;
  const args =
    mode === 'require'
      ? ['-e', script]
      : ['--import', `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(hooks)},{data:{out:${JSON.stringify(out)}}})`, '--input-type=module', '-e', script];
  // From the tests workspace, which depends on the built packages as a user's project would.
  return JSON.parse(execFileSync(process.execPath, args, { cwd: join(root, 'tests'), encoding: 'utf8' })) as { modules: number; packages: string[] };
}

describe('import cost (modules loaded)', () => {
  it('the budget is documented in the core README', () => {
    expect(budget).toBeGreaterThan(0);
  });

  it.each([
    ['require', '@sov/core'],
    ['import', '@sov/core'],
    ['require', '@sov/state'],
    ['import', '@sov/state'],
  ] as const)('%s(%s) stays within the budget', (mode, name) => {
    const cost = loads(mode, name);
    // The modules counted include the package itself: a count near zero means the counting broke.
    expect(cost.modules).toBeGreaterThan(5);
    if (cost.modules > budget) {
      throw new Error(`${mode}(${name}) loads ${cost.modules} modules (budget ${budget}) from ${cost.packages.length} packages: ${cost.packages.join(' ')}`);
    }
    expect(cost.modules).toBeLessThanOrEqual(budget);
  });
});
