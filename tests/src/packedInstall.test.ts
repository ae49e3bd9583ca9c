/**
 * What we publish works as installed: every published package is packed
 * with pnpm, the tarballs are installed with npm into a fresh project outside
 * the workspace (third-party dependencies from the npm registry), and a small
 * agent and a caller run from them under ESM (.mjs) and CommonJS (.cjs)
 * against the installed `sov-registry` bin, which checks signatures as in
 * production. Nothing here is skipped: a missing tool or network fails it.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  bin?: Record<string, string>;
}

const root = join(__dirname, '..', '..');
const workspaceManifests = ['packages', 'apps']
  .flatMap((dir) => readdirSync(join(root, dir)).map((d) => join(root, dir, d, 'package.json')))
  .concat([join(root, 'tooling', 'package.json'), join(root, 'tests', 'package.json')])
  .map((file) => JSON.parse(readFileSync(file, 'utf8')) as Manifest);
const published = readdirSync(join(root, 'packages'))
  .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as Manifest)
  .filter((m) => !m.private);
const privateNames = new Set(workspaceManifests.filter((m) => m.private).map((m) => m.name));
const builtins = new Set(builtinModules);

const work = mkdtempSync(join(tmpdir(), 'sov-packed-'));
const tarballDir = join(work, 'tarballs');
const project = join(work, 'project');

/** The packed tarball of each published package, by name. */
const tarballs = new Map<string, string>();
let npmOutput = '';

function run(cmd: string, args: string[], cwd: string): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 150_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}) in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

function packedFile(tarball: string, file: string): string {
  return execFileSync('tar', ['-xzOf', tarball, `package/${file}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** The package names that a built file imports or requires (bare specifiers, node builtins left out). */
function importedPackages(code: string): string[] {
  const names = new Set<string>();
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']((?:@[\w.-]+\/)?[\w-][\w.-]*(?:\/[\w.-]+)*)["']/gm;
  for (const [, spec] of code.matchAll(pattern)) {
    if (spec!.startsWith('node:') || builtins.has(spec!)) continue;
    const parts = spec!.split('/');
    names.add(spec!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return [...names];
}

beforeAll(() => {
  // One pnpm call packs every workspace package under packages/ (pnpm replaces workspace: ranges by versions).
  execFileSync('npx', ['-y', 'pnpm@10.34.9', '-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballDir], {
    cwd: root,
    stdio: 'pipe',
  });
  for (const file of readdirSync(tarballDir)) {
    const manifest = JSON.parse(packedFile(join(tarballDir, file), 'package.json')) as Manifest;
    tarballs.set(manifest.name, join(tarballDir, file));
  }
  // A fresh npm project that depends on every tarball; overrides make the siblings' own @sov/* ranges use them too.
  const dependencies = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  const overrides = Object.fromEntries([...tarballs.keys()].map((name) => [name, `$${name}`]));
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sov-packed-check', private: true, dependencies, overrides }, null, 2));
  const installed = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=warn'], project);
  npmOutput = installed.stdout + installed.stderr;
}, 170_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed packages', () => {
  it('are exactly the published (non-private) packages', () => {
    expect([...tarballs.keys()].sort()).toEqual(published.map((m) => m.name).sort());
  });

  it.each(published.map((m) => m.name))('%s: its packed manifest has no workspace: range and depends on nothing dev-only', (name) => {
    const text = packedFile(tarballs.get(name)!, 'package.json');
    expect(text).not.toContain('workspace:');
    const manifest = JSON.parse(text) as Manifest;
    // .pnpmfile.cjs (beforePacking) leaves devDependencies out: they name workspace-only packages such as @sov/tooling.
    expect(manifest.devDependencies).toBeUndefined();
    const runtime = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies };
    expect(Object.keys(runtime).filter((d) => privateNames.has(d))).toEqual([]);
    // What the built code loads must be a declared runtime dependency: a devDependency (bundled, like ky) must not be imported.
    const files = execFileSync('tar', ['-tzf', tarballs.get(name)!], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(c|m)?js$/.test(f))
      .map((f) => f.replace(/^package\//, ''));
    expect(files.length).toBeGreaterThan(0);
    const undeclared = files.flatMap((f) =>
      importedPackages(packedFile(tarballs.get(name)!, f))
        .filter((p) => p !== name && !(p in runtime))
        .map((p) => `${f} imports ${p}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('install with npm on Node 20 without an engine warning', () => {
    expect(process.versions.node.split('.')[0]).toBe('20');
    expect(npmOutput).not.toMatch(/EBADENGINE|Unsupported engine/);
    // Each sibling resolved to its tarball, not to a package of the same name from the npm registry.
    const ls = JSON.parse(run('npm', ['ls', '--json'], project).stdout) as { dependencies: Record<string, { version: string; resolved?: string }> };
    for (const name of tarballs.keys()) expect(ls.dependencies[name]?.resolved).toMatch(/^file:/);
  });
});

/** One program as an ES module (.mjs) or a CommonJS one (.cjs): only how it loads the packages differs. */
function program(format: 'esm' | 'cjs', imports: Record<string, string[]>, body: string): string {
  const head = Object.entries(imports)
    .map(([pkg, names]) => (format === 'esm' ? `import { ${names.join(', ')} } from '${pkg}';` : `const { ${names.join(', ')} } = require('${pkg}');`))
    .join('\n');
  return `${head}\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exitCode = 1; });\n`;
}

/** An agent that serves `service`, registered (signed) with the registry named by argv[2]. */
const agentProgram = (format: 'esm' | 'cjs', service: string) =>
  program(format, { '@sov/core': ['Agent', 'createLogger'], '@sov/crypto': ['Identity'], '@sov/services': ['serviceRouter'] }, `
  const agent = new Agent({ name: 'upper-${format}', registryUrl: process.argv[2], identity: Identity.generate(), port: 0, logger: createLogger({ level: 'error' }) });
  agent.use(serviceRouter()).register({
    name: '${service}',
    inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    handler: ({ text }) => ({ text: text.toUpperCase(), by: '${format}' }),
  });
  await agent.start();
  agent.shutdownOnSignals();
  console.log('ready ' + agent.url);`);

/** A caller that serves nothing: initialize() and call, by capability through the registry and by URL. */
const callerProgram = (format: 'esm' | 'cjs') =>
  program(format, { '@sov/core': ['Agent', 'createLogger'], '@sov/crypto': ['Identity'] }, `
  const [registryUrl, service, url] = process.argv.slice(2);
  const caller = new Agent({ name: 'caller-${format}', registryUrl, identity: Identity.generate(), logger: createLogger({ level: 'error' }) });
  await caller.initialize();
  console.log(JSON.stringify(await caller.call({ capability: service }, service, { text: 'from ${format}' })));
  console.log(JSON.stringify(await caller.call(url, service, { text: 'by url' })));
  await caller.shutdown();`);

/** Starts a process and resolves with it and the first stdout match of `ready`, or rejects with its output if it exits first. */
function startUntil(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} within 20 s: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
}

function stop(child: ChildProcess | undefined): Promise<number | null> {
  if (!child || child.exitCode !== null) return Promise.resolve(child?.exitCode ?? null);
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('an agent and a caller from the installed packages', () => {
  let registry: ChildProcess | undefined;
  let registryUrl = '';
  const agents: ChildProcess[] = [];

  beforeAll(async () => {
    writeFileSync(join(project, 'agent.mjs'), agentProgram('esm', 'uppercase'));
    writeFileSync(join(project, 'agent.cjs'), agentProgram('cjs', 'shout'));
    writeFileSync(join(project, 'caller.mjs'), callerProgram('esm'));
    writeFileSync(join(project, 'caller.cjs'), callerProgram('cjs'));
    // The installed bin, signatures required (the default).
    const started = await startUntil([join(project, 'node_modules', '.bin', 'sov-registry'), '--port', '0', '--memory'], /"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    registry = started.child;
    registryUrl = started.match[1]!;
  }, 30_000);

  afterAll(async () => {
    for (const a of agents) await stop(a);
    await stop(registry);
  });

  it.each([
    ['agent.mjs', 'caller.cjs', 'uppercase', 'esm', 'cjs'],
    ['agent.cjs', 'caller.mjs', 'shout', 'cjs', 'esm'],
  ])('%s serves, %s finds it in the registry and calls it, and by URL', async (agentFile, callerFile, service, by, from) => {
    const { child, match } = await startUntil([agentFile, registryUrl], /ready (http:\/\/\S+)/);
    agents.push(child);
    const { stdout, stderr } = run(process.execPath, [callerFile, registryUrl, service, match[1]!], project);
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toEqual([JSON.stringify({ text: `FROM ${from.toUpperCase()}`, by }), JSON.stringify({ text: 'BY URL', by })]);
    // SIGTERM: the agent drains, deregisters and exits 0.
    expect(await stop(child)).toBe(0);
  }, 40_000);
});
