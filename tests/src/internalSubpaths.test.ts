import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `@sov/core/internal` and `@sov/registry/internal`: plumbing the packages
 * share, fenced off from the public entry. Built as chunks shared with the
 * main entry, so no class exists twice (a2a and cli branch on instanceof).
 */
const root = join(__dirname, '..', '..');

function run(script: string): unknown {
  const out = execFileSync(process.execPath, ['-e', script], { cwd: join(root, 'tests'), encoding: 'utf8' });
  return JSON.parse(out);
}

describe('the internal subpaths', () => {
  /** The names the core README's section on the subpath documents (each in backticks). */
  function documented(): Set<string> {
    const readme = readFileSync(join(root, 'packages', 'core', 'README.md'), 'utf8');
    const start = readme.indexOf('## `@sov/core/internal`');
    const end = readme.indexOf('\n## ', start + 1);
    return new Set([...readme.slice(start, end < 0 ? undefined : end).matchAll(/`([A-Za-z_]\w*)`/g)].map((m) => m[1]!));
  }

  it.each([
    ['require (CJS)', `const core = require('@sov/core'); const internal = require('@sov/core/internal'); report(core, internal);`],
    ['import (ESM)', `Promise.all([import('@sov/core'), import('@sov/core/internal')]).then(([core, internal]) => report(core, internal));`],
  ])('@sov/core/internal shares its modules with @sov/core under %s, and its README section names everything it exports', (_how, load) => {
    const out = run(`
      // A DeadlineQueue's default clock is core's systemClock: one module, seen through both entries.
      const report = (core, internal) => console.log(JSON.stringify({ sameClock: new internal.DeadlineQueue().clock === core.systemClock, names: Object.keys(internal).sort() }));
      ${load}`) as { sameClock: boolean; names: string[] };
    expect(out.sameClock).toBe(true);
    expect(out.names).toEqual(expect.arrayContaining(['CollectedMetric', 'DeadlineQueue', 'RequestMetrics', 'jsonDepthProblem', 'receiptPayload', 'searchQueryString']));
    const named = documented();
    expect(out.names.filter((n) => !named.has(n))).toEqual([]);
  });

  it('core is built with one SovError class per format, in a chunk both entries load', () => {
    const dist = join(root, 'packages', 'core', 'dist');
    for (const ext of ['.js', '.cjs']) {
      const files = readdirSync(dist).filter((f) => f.endsWith(ext));
      const defining = files.filter((f) => /\bSovError = class\b|\bclass SovError\b/.test(readFileSync(join(dist, f), 'utf8')));
      expect({ ext, defining: defining.length }).toEqual({ ext, defining: 1 });
      const chunk = defining[0]!;
      expect(chunk).toMatch(/^chunk-/);
      for (const entry of [`index${ext}`, `internal${ext}`]) expect(readFileSync(join(dist, entry), 'utf8')).toContain(chunk.replace(ext, ''));
    }
  });

  it('the plumbing is not on the public entries any more', () => {
    const out = run(`
      const core = require('@sov/core');
      const registry = require('@sov/registry');
      console.log(JSON.stringify([
        ...['CollectedMetric', 'RequestMetrics', 'DeadlineQueue', 'receiptPayload', 'jsonDepthProblem', 'searchQueryString'].filter((n) => n in core),
        ...['registeredAgent', 'renewedAgent', 'toRecord', 'availabilityOf', 'ratedStanding'].filter((n) => n in registry),
      ]));`);
    expect(out).toEqual([]);
  });

  it('@sov/registry/internal loads in both builds with the record logic MockRegistry shares', () => {
    const out = run(`
      const cjs = require('@sov/registry/internal');
      import('@sov/registry/internal').then((esm) => {
        console.log(JSON.stringify([Object.keys(cjs).sort(), Object.keys(esm).sort()]));
      });`);
    const names = ['availabilityOf', 'ratedStanding', 'registeredAgent', 'renewedAgent', 'toRecord'];
    expect(out).toEqual([names, names]);
  });
});
