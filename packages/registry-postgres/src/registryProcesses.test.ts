import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EventStream } from './__tests__/eventStream';
import { DATABASE_URL, TestSchemas } from './__tests__/testSchema';

// The published command line (packages/registry's build), run the way a deployment runs it: from a project
// that installed @sov/registry and @sov/registry-postgres (this package's directory), one process per replica.
const bin = join(dirname(createRequire(__filename).resolve('@sov/registry/package.json')), 'bin', 'sov-registry.mjs');
const projectDir = join(__dirname, '..');
const schemas = new TestSchemas();
const children = new Set<ChildProcess>();

interface Replica {
  url: string;
  child: ChildProcess;
}

function startReplica(schema: string): Promise<Replica> {
  const child = spawn(process.execPath, [bin, '--store', 'postgres', '--database-schema', schema, '--port', '0', '--insecure', '--default-ttl', '60'], {
    cwd: projectDir,
    // No NODE_PATH (the test runner's reaches every workspace package): the bin finds the store as a project's install would.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_PATH')), SOV_REGISTRY_DATABASE_URL: DATABASE_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no replica after 15 s: ${out}`)), 15_000);
    const read = (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited early with ${code}: ${out}`));
    });
  });
}

async function register(url: string, id: string) {
  const res = await fetch(`${url}/v1/agents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: id, endpoint: 'http://127.0.0.1:9/', capabilities: ['proc.cap'] }),
  });
  expect(res.status).toBe(201);
}

async function found(url: string): Promise<string[]> {
  const page = (await (await fetch(`${url}/v1/agents?capability=proc.cap`)).json()) as { agents: Array<{ id: string }> };
  return page.agents.map((a) => a.id).sort();
}

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await schemas.dropAll();
});

describe('sov-registry --store postgres, refusals', () => {
  it('refuses a schema name that is no plain identifier with exit code 2, before connecting', async () => {
    const child = spawn(process.execPath, [bin, '--store', 'postgres', '--database-url', DATABASE_URL, '--database-schema', 'Not-A-Name', '--port', '0', '--insecure'], {
      cwd: projectDir,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_PATH')),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/sov-registry: --store postgres: PostgresRegistryStore schema must be a lower-case SQL identifier \(a-z, 0-9, _\); got "Not-A-Name"/);
  });
});

describe('sov-registry --store postgres, three processes on one database', () => {
  it('keeps serving (writes, searches, events) through the replicas left when one is killed', async () => {
    const schema = schemas.fresh();
    const [a, b, c] = await Promise.all([startReplica(schema), startReplica(schema), startReplica(schema)]);
    const stream = await EventStream.open(c.url);
    await stream.until((es) => es.some((e) => e.type === 'stream_position'));

    await register(a.url, 'before-kill');
    expect(await found(b.url)).toEqual(['before-kill']);

    const exited = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGKILL');
    await exited;
    await expect(fetch(`${a.url}/health`)).rejects.toThrow();

    await register(b.url, 'after-kill');
    expect(await found(c.url)).toEqual(['after-kill', 'before-kill']);
    await stream.until((es) => ['before-kill', 'after-kill'].every((id) => es.some((e) => e.type === 'peer_joined' && e.data.peer_id === id)));
    for (const r of [b, c]) expect((await fetch(`${r.url}/ready`)).status).toBe(200);

    // A replica started again joins the same state.
    const again = await startReplica(schema);
    expect(await found(again.url)).toEqual(['after-kill', 'before-kill']);
    stream.close();
    for (const r of [b, c, again]) {
      const gone = new Promise<number | null>((resolve) => r.child.once('exit', resolve));
      r.child.kill('SIGTERM');
      expect(await gone).toBe(0);
    }
  }, 60_000);
});
