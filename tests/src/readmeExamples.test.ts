/**
 * Examples are tests: every TypeScript example of the root README and of each
 * package README (extracted by tooling/readmeExamples.ts, which documents the
 * `<!-- example: ... -->` markers) type-checks under the repository's settings
 * against the built packages, and each `run` example runs to its end against
 * a real registry that checks signatures, as the default one does.
 *
 * For a run, `http://127.0.0.1:7000` becomes that registry's URL, any
 * `port: <n>` becomes `port: 0`, SOV_OPERATOR_TOKEN is the registry's
 * operator token, and relative paths land in a fresh directory. A run passes when the
 * example ends (or, when it leaves an agent serving, stops on SIGTERM) with
 * nothing on stderr, and every `console.log(...); // <value>` printed <value>.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exampleModule, extractExamples, readmeExamples, type ReadmeExample } from '@sov/tooling/readme-examples';
import { TestRegistry } from '@sov/testing';

const root = join(__dirname, '..', '..');
const dir = join(root, 'tests', 'artifacts', 'readme-examples');
const examples = readmeExamples(root);
const runnable = examples.filter((e) => e.mode === 'run');
const DONE = '<<example finished>>';

/** tsc's errors of each example, with the example's lines mapped back to the README. */
const errors = new Map<string, string[]>();

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const e of examples) writeFileSync(join(dir, `${e.name}.mts`), exampleModule(e).text);
  // The repository's settings (tsconfig.base.json); `@sov/*` resolves through tests/node_modules to the built packages.
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: '../../../tsconfig.base.json', compilerOptions: { types: ['node'] }, include: ['*.mts'] }),
  );
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir, '--pretty', 'false'], { encoding: 'utf8' });
  for (const e of examples) errors.set(e.name, []);
  for (const line of tsc.stdout.split('\n')) {
    const m = /^(?:.*[\\/])?([\w-]+)\.mts\((\d+),(\d+)\): (.*)$/.exec(line);
    const example = m && examples.find((e) => e.name === m[1]);
    if (!m || !example) continue;
    const at = Number(m[2]) - exampleModule(example).codeStartsAt;
    errors.get(example.name)!.push(at >= 0 ? `${example.readme}:${example.line + 1 + at}:${m[3]} ${m[4]}` : `(given) ${m[4]}`);
  }
  // tsc failing without an error we could place would be a bug of this test: say so.
  if (tsc.status !== 0 && [...errors.values()].every((l) => l.length === 0)) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
}, 120_000);

describe('the extractor', () => {
  const readme = [
    '# x', // 1
    '```ts', // 2
    "console.log('compiled only');", // 3
    '```', // 4
    '<!-- example: run -->', // 5
    '```ts', // 6
    "console.log('run'); // run", // 7
    '```', // 8
    '<!-- example: compile', // 9
    'declare const agent: unknown;', // 10
    '-->', // 11
    '```ts', // 12
    'void agent;', // 13
    '```', // 14
    '```sh', // 15
    'not an example', // 16
    '```', // 17
  ].join('\n');

  it('finds each ts block with its mode, what it takes as given and the line of its fence', () => {
    expect(extractExamples(readme, 'x/README.md', 'x').map(({ where, mode, given, code }) => ({ where, mode, given, code }))).toEqual([
      { where: 'x/README.md:2', mode: 'compile', given: '', code: "console.log('compiled only');\n" },
      { where: 'x/README.md:6', mode: 'run', given: '', code: "console.log('run'); // run\n" },
      { where: 'x/README.md:12', mode: 'compile', given: 'declare const agent: unknown;', code: 'void agent;\n' },
    ]);
  });

  it('puts what a fragment takes as given before its code, and knows where the code starts', () => {
    const [, , fragment] = extractExamples(readme, 'x/README.md', 'x');
    const { text, codeStartsAt } = exampleModule(fragment!);
    expect(text.split('\n')[codeStartsAt - 1]).toBe('void agent;');
  });

  it('refuses a run example that takes something as given', () => {
    expect(() => extractExamples('<!-- example: run\ndeclare const a: 1;\n-->\n```ts\na;\n```\n', 'y/README.md', 'y')).toThrow(
      'y/README.md:4: a run example takes nothing as given',
    );
  });

  it('reads the printed values a run example promises', () => {
    expect(expectedLines("console.log(reply.text); // HI\nconsole.log(1);\nfoo(); // not a print\n")).toEqual(['HI']);
  });
});

describe('README examples', () => {
  it('are found in the root README and the package READMEs', () => {
    expect(examples.some((e) => e.readme === 'README.md')).toBe(true);
    expect(new Set(examples.map((e) => e.readme)).size).toBeGreaterThanOrEqual(10);
    expect(runnable.length).toBeGreaterThan(0);
  });

  it.each(examples.map((e) => [e.where, e] as const))('%s type-checks', (_where, e) => {
    expect(errors.get(e.name)).toEqual([]);
  });
});

describe('runnable README examples', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await TestRegistry.start();
  });
  afterAll(() => registry?.stop());

  it.each(runnable.map((e) => [e.where, e] as const))(
    '%s runs against a registry that checks signatures',
    async (_where, e) => {
      const result = await runExample(e, registry);
      expect(result.stderr).toBe('');
      expect(result.finished).toBe(true);
      expect(result.exit).toEqual(expect.stringMatching(/^(code 0|signal SIGTERM)$/));
      const printed = result.stdout.split('\n').map((l) => l.trim());
      for (const expected of expectedLines(e.code)) expect(printed).toContain(expected);
    },
    45_000,
  );
});

/** The values that `console.log(...); // <value>` lines of an example say they print. */
function expectedLines(code: string): string[] {
  return [...code.matchAll(/^\s*console\.log\(.*\);\s*\/\/\s*(.+?)\s*$/gm)].map((m) => m[1]!);
}

async function runExample(e: ReadmeExample, registry: TestRegistry) {
  const code =
    e.code.replaceAll('http://127.0.0.1:7000', registry.url).replace(/\bport: \d+/g, 'port: 0') +
    `\nconsole.log(${JSON.stringify(DONE)});\n`;
  const file = join(dir, `${e.name}.run.mts`);
  writeFileSync(file, `${code}export {};\n`);
  const cwd = mkdtempSync(join(tmpdir(), `sov-readme-${e.name}-`));
  const child = spawn(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, file], {
    cwd,
    // No SOV_* of ours leaks in: an example's agent is configured by what the example says.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOV_'))), SOV_OPERATOR_TOKEN: registry.operatorToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '', finished: false };
  const exited = new Promise<string>((resolve) => child.once('exit', (c, s) => resolve(s ? `signal ${s}` : `code ${c}`)));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out.stdout += d.toString();
    if (!out.finished && out.stdout.includes(DONE)) {
      out.finished = true;
      // An example that leaves an agent serving is stopped as an operator would stop it.
      setTimeout(() => child.exitCode === null && child.kill('SIGTERM'), 200).unref();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    const exit = await exited;
    return { ...out, exit };
  } finally {
    clearTimeout(timer);
    rmSync(cwd, { recursive: true, force: true });
  }
}
