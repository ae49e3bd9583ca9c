/**
 * Extracts the TypeScript examples of the repository's READMEs, so CI can
 * type-check them against the built packages and run the runnable ones
 * (tests/src/readmeExamples.test.ts).
 *
 * Every ```ts block of README.md and packages/<name>/README.md is an example.
 * An HTML comment on the line before its fence (invisible on GitHub) says
 * what CI does with it:
 *
 * - no comment, or `<!-- example: compile -->`: type-checked only;
 * - `<!-- example: compile` + lines + `-->`: a fragment, type-checked after
 *   the lines between `compile` and `-->` (what the fragment takes as given,
 *   such as `declare const agent: Agent;`);
 * - `<!-- example: run -->`: type-checked, then run to its end against a real
 *   registry that checks signatures (a run example takes nothing as given).
 *
 * Print them with `npx tsx tooling/readmeExamples.ts [out-dir]`.
 */
import { mkdirSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One example of a README. */
export interface ReadmeExample {
  /** `<readme path relative to the root>:<line of the fence>`, e.g. `packages/core/README.md:31`. */
  where: string;
  /** The README, relative to the repository root. */
  readme: string;
  /** Line (1-based) of the opening fence. */
  line: number;
  /** A name usable as a file name: `core-1` (the root README's are `root-1`, ...). */
  name: string;
  mode: 'compile' | 'run';
  /** What a fragment takes as given ('' when nothing). */
  given: string;
  /** The code between the fences. */
  code: string;
}

const BLOCK = /(?:<!--[ \t]*example:[ \t]*(compile|run)\b((?:(?!-->)[\s\S])*)-->[ \t]*\n)?^```(?:ts|typescript)[ \t]*\n([\s\S]*?)^```/gm;

/** The examples of one README's text. */
export function extractExamples(markdown: string, readme: string, prefix: string): ReadmeExample[] {
  const examples: ReadmeExample[] = [];
  for (const m of markdown.matchAll(BLOCK)) {
    const fenceAt = m.index + m[0].indexOf('```');
    const line = markdown.slice(0, fenceAt).split('\n').length;
    const mode = (m[1] ?? 'compile') as 'compile' | 'run';
    const given = (m[2] ?? '').trim();
    if (mode === 'run' && given) throw new Error(`${readme}:${line}: a run example takes nothing as given`);
    examples.push({ where: `${readme}:${line}`, readme, line, name: `${prefix}-${examples.length + 1}`, mode, given, code: m[3]! });
  }
  return examples;
}

/** Every example of the root README and of each package's README, in order. */
export function readmeExamples(root: string): ReadmeExample[] {
  const readmes: Array<[string, string]> = [['README.md', 'root']];
  for (const dir of ['packages', 'apps']) {
    if (!existsSync(join(root, dir))) continue;
    for (const name of readdirSync(join(root, dir)).sort()) {
      if (existsSync(join(root, dir, name, 'README.md'))) readmes.push([`${dir}/${name}/README.md`, name]);
    }
  }
  return readmes.flatMap(([readme, prefix]) => extractExamples(readFileSync(join(root, readme), 'utf8'), readme, prefix));
}

/**
 * The module written for an example: what it takes as given, then its code;
 * `export {}` makes every example a module (its own scope, top-level await).
 */
export function exampleModule(example: ReadmeExample): { text: string; codeStartsAt: number } {
  const head = `// ${example.where}\n${example.given ? `${example.given}\n` : ''}`;
  return { text: `${head}${example.code}export {};\n`, codeStartsAt: head.split('\n').length };
}

// As a script: write every example to out-dir (default: tests/artifacts/readme-examples).
if (process.argv[1] && /readmeExamples\.ts$/.test(process.argv[1])) {
  const root = join(__dirname, '..');
  const out = process.argv[2] ?? join(root, 'tests', 'artifacts', 'readme-examples');
  mkdirSync(out, { recursive: true });
  for (const e of readmeExamples(root)) {
    writeFileSync(join(out, `${e.name}.mts`), exampleModule(e).text);
    console.log(`${relative(process.cwd(), join(out, `${e.name}.mts`))}  ${e.mode.padEnd(7)} ${e.where}`);
  }
}
