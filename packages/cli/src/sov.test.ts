import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentRecord, type RegistryEvent } from '@sov/core';
import { Identity } from '@sov/crypto';
import { TestRegistry, waitFor } from '@sov/testing';

/** The built bin, as a user runs it. */
const BIN = join(__dirname, '..', 'dist', 'bin.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ReturnType<typeof spawn>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Run>;
}

/** Starts `node dist/bin.js ...args` with only PATH, HOME and `env` in its environment (stdout is a pipe, not a TTY). */
function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exited = new Promise<Run>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const sov = (args: string[], env: Record<string, string> = {}) => start(args, env).exited;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Exactly one line on stderr, in the shape `sov <command>: <CODE>: <message>`. */
function oneLineError(run: Run, command: string, code: string): void {
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^sov ${command}: ${code}: \\S`));
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`);

let registry: TestRegistry;
let dir: string;
let worker: Agent;
const pricey = Identity.generate();
const cheap = Identity.generate();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sov-cli-'));
  registry = await TestRegistry.start({ operatorToken: 'op-secret' });
  // Two listed agents with prices, registered (signed) through the public API.
  const listing = (id: Identity, name: string, price: number, caps: string[]) =>
    registry.client(id.signer).register({ id: id.id, name, endpoint: 'http://127.0.0.1:9/', capabilities: caps, services: [{ name: 'analyse', price }], ttl: 600 });
  await listing(pricey, 'pricey-analyst', 50, ['analyse', 'report']);
  await listing(cheap, 'cheap-analyst', 2, ['analyse']);
  // A real agent that serves calls and says who signed them.
  worker = new Agent({ name: 'uppercaser', registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error', capabilities: ['text.uppercase'] });
  worker.handle((request, { caller }) => ({ result: { text: String((request.params as { text: string }).text).toUpperCase(), caller: caller?.id ?? null } }));
  await worker.start();
});

afterAll(async () => {
  await worker.shutdown();
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('sov --help', () => {
  it.each(['keygen', 'agents', 'search', 'get', 'call', 'events', 'stake'])('sov %s --help prints its usage and exits 0', async (command) => {
    const run = await sov([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: sov ${command}`);
    expect(run.stdout).toContain('--registry <url>');
    expect(run.stderr).toBe('');
  });

  it('sov --help documents the exit codes and the environment', async () => {
    const run = await sov(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exit codes:[\s\S]*0 {2}done[\s\S]*2 {2}bad arguments[\s\S]*3 {2}the registry did not answer/);
    expect(run.stdout).toContain('SOV_REGISTRY_URL');
  });

  it('no command, an unknown command or an unknown option is a usage error (2) on one line', async () => {
    expect((await sov([])).code).toBe(2);
    const unknown = await sov(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^sov: USAGE: unknown command 'frobnicate'/);
    const option = await sov(['agents', '--bogus', '--registry', registry.url]);
    expect(option.code).toBe(2);
    oneLineError(option, 'agents', 'USAGE');
    expect(option.stderr).toContain("unknown option '--bogus'");
  });

  it('a --registry that is not an http URL is a usage error', async () => {
    const run = await sov(['agents', '--registry', 'ftp://x']);
    expect(run.code).toBe(2);
    oneLineError(run, 'agents', 'USAGE');
    expect(run.stderr).toContain('"ftp://x"');
  });
});

describe('sov keygen', () => {
  it('writes a keystore with mode 0600 and prints the new id; refuses to overwrite without --force', async () => {
    const key = join(dir, 'k1.json');
    const run = await sov(['keygen', '--key', key, '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { id: string; path: string; encrypted: boolean };
    expect(out).toEqual({ id: expect.stringMatching(/^did:key:z6Mk/), path: key, encrypted: false });
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    expect((await Identity.load(key)).id).toBe(out.id);

    const before = await readFile(key, 'utf8');
    const again = await sov(['keygen', '--key', key]);
    expect(again.code).toBe(1);
    oneLineError(again, 'keygen', 'CONFLICT');
    expect(await readFile(key, 'utf8')).toBe(before);

    const forced = await sov(['keygen', '--key', key, '--force', '--json']);
    expect(forced.code).toBe(0);
    expect((JSON.parse(forced.stdout) as { id: string }).id).not.toBe(out.id);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
  });

  it('encrypts with SOV_KEY_PASSPHRASE, takes SOV_KEY_FILE, and the keystore then needs the passphrase', async () => {
    const key = join(dir, 'k2.json');
    const run = await sov(['keygen', '--json'], { SOV_KEY_FILE: key, SOV_KEY_PASSPHRASE: 'correct horse' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ path: key, encrypted: true });
    await expect(Identity.load(key)).rejects.toMatchObject({ code: 'KEYSTORE_PASSPHRASE' });
    expect((await Identity.load(key, { passphrase: 'correct horse' })).id).toBe((JSON.parse(run.stdout) as { id: string }).id);
  });
});

describe('sov agents and sov search', () => {
  it('agents prints a table without colour when stdout is not a terminal', async () => {
    const run = await sov(['agents'], { SOV_REGISTRY_URL: registry.url });
    expect(run.code).toBe(0);
    for (const name of ['pricey-analyst', 'cheap-analyst', 'uppercaser']) expect(run.stdout).toContain(name);
    expect(run.stdout).toContain('analyse (50)');
    expect(run.stdout).toMatch(/3 shown, 3 match/);
    expect(run.stdout).not.toMatch(ANSI);
  });

  it('colours with FORCE_COLOR, and NO_COLOR wins over it', async () => {
    const forced = await sov(['agents'], { SOV_REGISTRY_URL: registry.url, FORCE_COLOR: '1' });
    expect(forced.stdout).toMatch(ANSI);
    const off = await sov(['agents'], { SOV_REGISTRY_URL: registry.url, FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(off.stdout).not.toMatch(ANSI);
  });

  it('agents --json prints the records', async () => {
    const run = await sov(['agents', '--json', '--registry', registry.url]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { agents: AgentRecord[]; total: number };
    expect(out.total).toBe(3);
    expect(out.agents.map((a) => a.name).sort()).toEqual(['cheap-analyst', 'pricey-analyst', 'uppercaser']);
  });

  it('search filters by capability, minimum reputation and maximum price as the API does', async () => {
    const names = async (args: string[]) => {
      const run = await sov(['search', '--json', '--registry', registry.url, ...args]);
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as { agents: AgentRecord[] }).agents.map((a) => a.name).sort();
    };
    expect(await names(['--capability', 'analyse'])).toEqual(['cheap-analyst', 'pricey-analyst']);
    expect(await names(['--capability', 'analyse', '--capability', 'report'])).toEqual(['pricey-analyst']);
    expect(await names(['--capability', 'analyse', '--max-price', '10'])).toEqual(['cheap-analyst']);
    expect(await names(['--min-reputation', '0.9'])).toEqual([]);
    expect(await names(['--capability', 'analyse', '--limit', '1'])).toHaveLength(1);
  });

  it.each([
    [['--min-reputation', '2'], '--min-reputation'],
    [['--min-reputation', 'high'], '--min-reputation'],
    [['--max-price', '-1'], '--max-price'],
    [['--max-price', '1.5'], '--max-price'],
    [['--limit', '0'], '--limit'],
    [['--capability', ''], '--capability'],
  ])('search %j is a usage error naming %s, and nothing is sent', async (args, named) => {
    const run = await sov(['search', '--registry', registry.url, ...args]);
    expect(run.code).toBe(2);
    oneLineError(run, 'search', 'USAGE');
    expect(run.stderr).toContain(named);
    expect(run.stdout).toBe('');
  });
});

describe('sov get', () => {
  it("prints one agent's record with its services and stake", async () => {
    const table = await sov(['get', pricey.id, '--registry', registry.url]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('pricey-analyst');
    expect(table.stdout).toContain('analyse, report');
    const json = await sov(['get', pricey.id, '--registry', registry.url, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ agent: { id: pricey.id, name: 'pricey-analyst', services: [{ name: 'analyse', price: 50 }] }, stake: 0 });
  });

  it('an unknown id is the registry refusal NOT_FOUND (exit 1); a missing id is a usage error', async () => {
    const run = await sov(['get', 'did:key:z6MkNobody', '--registry', registry.url]);
    expect(run.code).toBe(1);
    oneLineError(run, 'get', 'NOT_FOUND');
    expect(run.stderr).toContain('did:key:z6MkNobody');
    const missing = await sov(['get', '--registry', registry.url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'id'");
  });
});

describe('sov call', () => {
  let key: string;
  let caller: string;
  beforeAll(async () => {
    key = join(dir, 'caller.json');
    const run = await sov(['keygen', '--key', key, '--json']);
    caller = (JSON.parse(run.stdout) as { id: string }).id;
  });

  it('calls an agent by id, signed with the keystore (the agent sees the keystore id as its caller)', async () => {
    const run = await sov(['call', worker.id, 'uppercase', '{"text":"hello"}', '--key', key, '--registry', registry.url, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ agentId: worker.id, endpoint: worker.url, result: { text: 'HELLO', caller } });
  });

  it('calls the best agent with a capability, with the keystore from SOV_KEY_FILE', async () => {
    const run = await sov(['call', '--capability', 'text.uppercase', 'uppercase', '{"text":"by capability"}'], { SOV_REGISTRY_URL: registry.url, SOV_KEY_FILE: key });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ text: 'BY CAPABILITY', caller });
  });

  it('refuses bad arguments before sending anything (exit 2)', async () => {
    const base = ['--registry', registry.url, '--key', key];
    for (const [args, says] of [
      [['call', worker.id, 'uppercase', '{not json', ...base], 'not JSON'],
      [['call', worker.id, 'uppercase', ...base], 'takes <id> <service> <json>'],
      [['call', '--capability', 'text.uppercase', 'a', 'b', 'c', ...base], 'takes <service> <json>'],
      [['call', worker.id, 'uppercase', '{}', '--registry', registry.url], 'needs a keystore'],
      [['call', worker.id, 'uppercase', '{}', '--call-timeout', 'soon', ...base], '--call-timeout'],
    ] as Array<[string[], string]>) {
      const run = await sov(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      oneLineError(run, 'call', 'USAGE');
      expect(run.stderr).toContain(says);
    }
  });

  it('a missing keystore, a wrong passphrase and an unknown agent fail with exit 1 and their codes', async () => {
    const missing = await sov(['call', worker.id, 'uppercase', '{}', '--key', join(dir, 'none.json'), '--registry', registry.url]);
    expect(missing.code).toBe(1);
    oneLineError(missing, 'call', 'ENOENT');
    const locked = join(dir, 'locked.json');
    await sov(['keygen', '--key', locked], { SOV_KEY_PASSPHRASE: 'right' });
    const wrong = await sov(['call', worker.id, 'uppercase', '{}', '--key', locked, '--registry', registry.url], { SOV_KEY_PASSPHRASE: 'wrong' });
    expect(wrong.code).toBe(1);
    oneLineError(wrong, 'call', 'KEYSTORE_PASSPHRASE');
    const nobody = await sov(['call', 'did:key:z6MkNobody', 'uppercase', '{}', '--key', key, '--registry', registry.url]);
    expect(nobody.code).toBe(1);
    oneLineError(nobody, 'call', 'NOT_FOUND');
  });
});

describe('sov events', () => {
  it('without --follow prints the retained events and exits', async () => {
    const run = await sov(['events', '--json', '--registry', registry.url, '--type', 'peer_joined']);
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as RegistryEvent);
    expect(events.map((e) => e.data.peer_id)).toEqual(expect.arrayContaining([pricey.id, cheap.id, worker.id]));
    expect(events.every((e) => e.type === 'peer_joined')).toBe(true);
  });

  it('--follow streams a registration as it happens and exits 0 on SIGINT', async () => {
    const follow = start(['events', '--follow', '--json', '--type', 'peer_joined', '--registry', registry.url]);
    await waitFor('the stream to connect', () => follow.stderr().includes('following'), { timeoutMs: 15_000 });
    const late = Identity.generate();
    await registry.client(late.signer).register({ id: late.id, name: 'late-joiner', endpoint: 'http://127.0.0.1:9/', capabilities: ['c'] });
    await waitFor('the peer_joined line', () => follow.stdout().includes('late-joiner'), { timeoutMs: 15_000 });
    const event = JSON.parse(follow.stdout().trim().split('\n').pop()!) as RegistryEvent;
    expect(event).toMatchObject({ type: 'peer_joined', data: { peer_id: late.id, name: 'late-joiner' } });
    follow.child.kill('SIGINT');
    expect((await follow.exited).code).toBe(0);
    await registry.client(late.signer).deregister(late.id);
  });

  it('an unknown --type or a malformed --last-event-id is a usage error', async () => {
    const type = await sov(['events', '--type', 'peer_exploded', '--registry', registry.url]);
    expect(type.code).toBe(2);
    oneLineError(type, 'events', 'USAGE');
    expect(type.stderr).toContain('peer_joined');
    const id = await sov(['events', '--last-event-id', '0x10', '--registry', registry.url]);
    expect(id.code).toBe(2);
    oneLineError(id, 'events', 'USAGE');
  });
});

describe('sov stake', () => {
  it('reads a stake; credits it only with SOV_OPERATOR_TOKEN (refused without it, and with a wrong one)', async () => {
    const read = await sov(['stake', cheap.id, '--registry', registry.url, '--json']);
    expect(read.code).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({ agentId: cheap.id, stake: 0 });

    const refused = await sov(['stake', cheap.id, '--credit', '25', '--registry', registry.url]);
    expect(refused.code).toBe(1);
    oneLineError(refused, 'stake', 'UNAUTHORIZED');
    expect(refused.stderr).toContain('SOV_OPERATOR_TOKEN');
    const wrong = await sov(['stake', cheap.id, '--credit', '25', '--registry', registry.url], { SOV_OPERATOR_TOKEN: 'guess' });
    expect(wrong.code).toBe(1);
    oneLineError(wrong, 'stake', 'FORBIDDEN');
    expect(wrong.stderr).not.toContain('guess');
    expect((await registry.client().getStake(cheap.id)).stake).toBe(0);

    const credited = await sov(['stake', cheap.id, '--credit', '25', '--registry', registry.url], { SOV_OPERATOR_TOKEN: 'op-secret' });
    expect(credited.code).toBe(0);
    expect(credited.stdout.trim()).toBe(`${cheap.id}: stake 25`);
    const debited = await sov(['stake', cheap.id, '--debit', '5', '--json', '--registry', registry.url], { SOV_OPERATOR_TOKEN: 'op-secret' });
    expect(JSON.parse(debited.stdout)).toEqual({ agentId: cheap.id, stake: 20 });
    expect((await registry.client().getStake(cheap.id)).stake).toBe(20);
  });

  it.each([
    [['--credit', '0']],
    [['--credit', '2.5']],
    [['--credit', 'lots']],
    [['--credit', '9007199254740992']],
    [['--credit', '1', '--debit', '1']],
  ])('stake %j is a usage error and changes nothing', async (args) => {
    const run = await sov(['stake', pricey.id, ...args, '--registry', registry.url], { SOV_OPERATOR_TOKEN: 'op-secret' });
    expect(run.code).toBe(2);
    oneLineError(run, 'stake', 'USAGE');
    expect((await registry.client().getStake(pricey.id)).stake).toBe(0);
  });
});

describe('an unreachable registry', () => {
  let url: string;
  let key: string;
  beforeAll(async () => {
    url = `http://127.0.0.1:${await closedPort()}`;
    key = join(dir, 'offline.json');
    await sov(['keygen', '--key', key]);
  });

  it.each([
    ['agents', []],
    ['search', ['--capability', 'x']],
    ['get', ['did:key:z6MkSomeone']],
    ['call', ['did:key:z6MkSomeone', 'svc', '{}']],
    ['events', []],
    ['events', ['--follow']],
    ['stake', ['did:key:z6MkSomeone']],
    ['stake', ['did:key:z6MkSomeone', '--credit', '1']],
  ])('sov %s %j exits 3 with one line naming the registry', async (command, args) => {
    const run = await sov([command, ...args], { SOV_REGISTRY_URL: url, SOV_KEY_FILE: key, SOV_OPERATOR_TOKEN: 'op' });
    expect(run.code).toBe(3);
    oneLineError(run, command, 'NETWORK_ERROR');
    expect(run.stderr).toContain(`The registry at ${url} did not answer`);
  });
});
