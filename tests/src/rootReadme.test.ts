/**
 * The root README's architecture section sends a newcomer to files: they
 * must exist (files move when a package is split). In a table row, a bare
 * name (`wireErrorServer.ts`, `federation/`) is read beside the row's first
 * full path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = /^## Architecture\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';

function namedPaths(): string[] {
  const paths: string[] = [];
  for (const row of section.split('\n').filter((l) => l.startsWith('|'))) {
    let base: string | undefined;
    for (const [, token] of row.matchAll(/`([^`]+)`/g)) {
      if (/^(packages|tests|apps|tooling)\//.test(token!)) {
        base ??= token!.endsWith('/') ? token! : `${dirname(token!)}/`;
        paths.push(token!);
      } else if (/^[\w.-]+(\/[\w.-]+)*(\.ts|\/)$/.test(token!) && base) {
        paths.push(join(base, token!));
      }
    }
  }
  return paths;
}

describe('root README architecture section', () => {
  it('is there and names files', () => {
    expect(section).toContain('Dependency rules');
    expect(namedPaths().length).toBeGreaterThan(20);
  });

  it('names only files and folders that exist', () => {
    expect(namedPaths().filter((p) => !existsSync(join(root, p)))).toEqual([]);
  });
});
