import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

/**
 * DESIGN.md's dependency rules: core depends on no sibling; every other
 * package depends on core and on a sibling only where the design allows;
 * imports go through `@sov/<name>`, never into another package's src/.
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

  it.each(packages)('packages/%s imports siblings only through @sov/<name> and only the allowed ones', (pkg) => {
    const srcDir = join(packagesDir, pkg, 'src');
    const bad: string[] = [];
    for (const file of sourceFiles(srcDir)) {
      const isTest = /\.test\.ts$|__tests__/.test(file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          const rel = relative(join(packagesDir, pkg), target);
          if (rel.startsWith('..')) bad.push(`${relative(root, file)} reaches outside its package: ${spec}`);
        } else if (spec.startsWith('@sov/')) {
          const [, name, ...deep] = spec.split('/');
          if (deep.length) bad.push(`${relative(root, file)} imports a deep path: ${spec}`);
          if (!isTest && name !== pkg && name !== 'tooling' && !ALLOWED[pkg]!.includes(name!)) {
            bad.push(`${relative(root, file)} imports @sov/${name}, which packages/${pkg} may not depend on`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('apps import packages only through their entry points', () => {
    const appsDir = join(root, 'apps');
    const bad: string[] = [];
    for (const app of readdirSync(appsDir)) {
      for (const file of sourceFiles(join(appsDir, app, 'src'))) {
        for (const spec of importsOf(file)) {
          if (/packages\/|\/src\//.test(spec) && !spec.startsWith('./')) bad.push(`${relative(root, file)}: ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('the checker catches a forbidden import (self-test)', () => {
    const spec = '../../registry/src/registryServer';
    const file = join(packagesDir, 'core', 'src', 'agent.ts');
    expect(relative(join(packagesDir, 'core'), resolve(dirname(file), spec)).startsWith('..')).toBe(true);
    expect(ALLOWED.core).not.toContain('registry');
  });
});
