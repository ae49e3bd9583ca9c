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
  it('@sov/core/internal shares its modules with @sov/core under require (CJS)', () => {
    const out = run(`
      const core = require('@sov/core');
      const internal = require('@sov/core/internal');
      // A DeadlineQueue's default clock is core's systemClock: one module, seen through both entries.
      console.log(JSON.stringify({ sameClock: new internal.DeadlineQueue().clock === core.systemClock, names: Object.keys(internal).sort() }));`);
    expect(out).toEqual({
      sameClock: true,
      names: ['CollectedMetric', 'DeadlineQueue', 'RequestMetrics', 'jsonDepthProblem', 'receiptPayload', 'searchQueryString'],
    });
  });

  it('@sov/core/internal shares its modules with @sov/core under import (ESM)', () => {
    const out = run(`
      Promise.all([import('@sov/core'), import('@sov/core/internal')]).then(([core, internal]) => {
        console.log(JSON.stringify({ sameClock: new internal.DeadlineQueue().clock === core.systemClock, names: Object.keys(internal).sort() }));
      });`);
    expect(out).toEqual({
      sameClock: true,
      names: ['CollectedMetric', 'DeadlineQueue', 'RequestMetrics', 'jsonDepthProblem', 'receiptPayload', 'searchQueryString'],
    });
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
