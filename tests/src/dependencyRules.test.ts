import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

/**
 * DESIGN.md's dependency rules: core depends on no sibling; every other
 * package depends on core and on a sibling only where the design allows;
 * imports go through `@sov/<name>` (or its fenced, documented
 * `@sov/<name>/internal`), never into another package's src/ or dist/.
 */
const ALLOWED: Record<string, string[]> = {
  core: [],
  crypto: ['core'],
  state: ['core'],
  resilience: ['core'],
  services: ['core'],
  // Durable mode journals through @sov/state's StateStore (the design: "may use @sov/state").
  events: ['core', 'state'],
  // Route receipts and signed peer lists are @sov/crypto's (the registry checks them too).
  federation: ['core', 'crypto'],
  // sov-registry --store postgres loads @sov/registry-postgres on demand; it is never declared (the embedded registry needs no pg).
  registry: ['core', 'state', 'crypto', 'registry-postgres'],
  'registry-postgres': ['core', 'registry'],
  cli: ['core', 'crypto'],
  a2a: ['core'],
  testing: ['core', 'crypto', 'state', 'resilience', 'services', 'events', 'federation', 'registry'],
};

const root = join(__dirname, '..', '..');
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir).filter((d) => statSync(join(packagesDir, d)).isDirectory());

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(entry) ? [p] : [];
  });
}

const importPattern = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(importPattern)].map((m) => m[1]!);
}

/** The fenced subpaths a sibling may import: `./internal` where the package exports one. */
function hasInternalSubpath(name: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
    return manifest.exports?.['./internal'] !== undefined;
  } catch {
    return false;
  }
}

/**
 * What is wrong with one import of a file of packages/<pkg>: a relative path
 * out of the package, a deep path into a sibling (its dist/ or src/, or a
 * subpath other than its documented /internal), a sibling it may not depend on.
 */
function importProblems(pkg: string, file: string, spec: string, isTest: boolean): string[] {
  const where = relative(root, file);
  if (spec.startsWith('.')) {
    const rel = relative(join(packagesDir, pkg), resolve(dirname(file), spec));
    return rel.startsWith('..') ? [`${where} reaches outside its package: ${spec}`] : [];
  }
  if (!spec.startsWith('@sov/')) return [];
  const [, name, ...deep] = spec.split('/');
  const problems: string[] = [];
  const fenced = deep.length === 1 && deep[0] === 'internal' && name !== pkg && hasInternalSubpath(name!);
  // @sov/tooling is the private workspace of shared build and test helpers: a test may use its named entries.
  const testTool = isTest && name === 'tooling' && deep.length === 1;
  if (deep.length && !fenced && !testTool) problems.push(`${where} imports a deep path: ${spec}`);
  if (!isTest && name !== pkg && name !== 'tooling' && !ALLOWED[pkg]!.includes(name!)) {
    problems.push(`${where} imports @sov/${name}, which packages/${pkg} may not depend on`);
  }
  return problems;
}

describe('dependency rules', () => {
  it('knows every package', () => {
    for (const p of packages) expect(Object.keys(ALLOWED)).toContain(p);
  });

  it.each(packages)('packages/%s declares only the siblings it may depend on', (pkg) => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, pkg, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const siblings = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })
      .filter((d) => d.startsWith('@sov/'))
      .map((d) => d.slice(5));
    for (const s of siblings) expect({ pkg, dependsOn: s, allowed: ALLOWED[pkg]!.includes(s) }).toEqual({ pkg, dependsOn: s, allowed: true });
    if (pkg !== 'core') expect(siblings).toContain('core');
  });

  it.each(packages)('packages/%s imports siblings only through @sov/<name> (or a fenced /internal) and only the allowed ones', (pkg) => {
    const srcDir = join(packagesDir, pkg, 'src');
    const bad: string[] = [];
    for (const file of sourceFiles(srcDir)) {
      const isTest = /\.test\.ts$|__tests__/.test(file);
      for (const spec of importsOf(file)) bad.push(...importProblems(pkg, file, spec, isTest));
    }
    expect(bad).toEqual([]);
  });

  it.each(packages)('packages/%s fences and documents every subpath it exports', (pkg) => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, pkg, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
    const subpaths = Object.keys(manifest.exports ?? {}).filter((k) => k !== '.' && k !== './package.json');
    for (const subpath of subpaths) {
      // The only subpath a sibling may import is ./internal, and it must say it is not public API.
      expect({ pkg, subpath }).toEqual({ pkg, subpath: './internal' });
      const entry = readFileSync(join(packagesDir, pkg, 'src', 'internal.ts'), 'utf8');
      expect(entry).toContain('NOT PUBLIC API');
      expect(readFileSync(join(packagesDir, pkg, 'README.md'), 'utf8')).toContain(`@sov/${pkg}/internal`);
    }
  });

  it('apps import packages only through their entry points', () => {
    const appsDir = join(root, 'apps');
    const bad: string[] = [];
    for (const app of readdirSync(appsDir)) {
      for (const file of sourceFiles(join(appsDir, app, 'src'))) {
        for (const spec of importsOf(file)) {
          if (/packages\/|\/src\/|^@sov\/[^/]+\/internal/.test(spec) && !spec.startsWith('./')) bad.push(`${relative(root, file)}: ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('the checker catches a forbidden import (self-test)', () => {
    const file = join(packagesDir, 'services', 'src', 'serviceRouter.ts');
    expect(importProblems('services', file, '@sov/core', false)).toEqual([]);
    expect(importProblems('services', file, '@sov/core/internal', false)).toEqual([]);
    expect(importProblems('testing', file, '@sov/registry/internal', false)).toEqual([]);
    for (const deep of ['@sov/core/dist/index.js', '@sov/core/dist/internal.cjs', '@sov/core/src/deadlineQueue', '@sov/core/internal/x']) {
      expect(importProblems('services', file, deep, false)).toEqual([`packages/services/src/serviceRouter.ts imports a deep path: ${deep}`]);
    }
    // events may depend on state, but state exports no internal subpath.
    expect(importProblems('events', file, '@sov/state/internal', false)).toEqual(['packages/services/src/serviceRouter.ts imports a deep path: @sov/state/internal']);
    expect(importProblems('services', file, '../../core/src/deadlineQueue', false)).toEqual(['packages/services/src/serviceRouter.ts reaches outside its package: ../../core/src/deadlineQueue']);
    expect(importProblems('services', file, '@sov/registry/internal', false)).toEqual([
      'packages/services/src/serviceRouter.ts imports @sov/registry, which packages/services may not depend on',
    ]);
    // A test may use a named entry of the private tooling workspace; shipped code may not, nor reach deeper.
    const test = join(packagesDir, 'core', 'src', 'wireErrorServer.test.ts');
    expect(importProblems('core', test, '@sov/tooling/raw-http', true)).toEqual([]);
    expect(importProblems('core', file, '@sov/tooling/raw-http', false)).toEqual(['packages/services/src/serviceRouter.ts imports a deep path: @sov/tooling/raw-http']);
    expect(importProblems('core', test, '@sov/tooling/src/rawHttp', true)).toEqual([
      'packages/core/src/wireErrorServer.test.ts imports a deep path: @sov/tooling/src/rawHttp',
    ]);
    expect(importProblems('core', join(packagesDir, 'core', 'src', 'agent.ts'), '@sov/core/internal', false)).toEqual([
      'packages/core/src/agent.ts imports a deep path: @sov/core/internal',
    ]);
  });
});
