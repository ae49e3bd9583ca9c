import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const published = readdirSync(join(root, 'packages'))
  .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string; private?: boolean })
  .filter((p) => !p.private)
  .map((p) => p.name);

function exportsVia(mode: 'import' | 'require', name: string): string[] {
  const script =
    mode === 'import'
      ? `import(${JSON.stringify(name)}).then((m) => console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort())))`
      : `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(name)})).sort()))`;
  // Resolve from this workspace, which depends on every published package, as a user's project would.
  const out = execFileSync(process.execPath, ['-e', script], { cwd: join(root, 'tests'), encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe('the built packages', () => {
  it('lists every published package', () => {
    expect(published).toEqual(expect.arrayContaining(['@sov/core', '@sov/registry']));
  });

  it.each(published)('%s loads through import (ESM) and require (CJS) with the same named exports', (name) => {
    const esm = exportsVia('import', name);
    const cjs = exportsVia('require', name);
    expect(esm.length).toBeGreaterThan(0);
    expect(cjs).toEqual(esm);
  });

  it('a SovError from the CJS build is recognised by the ESM build guard', () => {
    const script = `
      const cjs = require('@sov/core');
      import('@sov/core').then((esm) => {
        const e = new cjs.TimeoutError('call', 5);
        console.log(JSON.stringify([esm.isSovError(e), esm.isTimeoutError(e), e instanceof esm.SovError]));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: join(root, 'tests'), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, true, false]);
  });
});
