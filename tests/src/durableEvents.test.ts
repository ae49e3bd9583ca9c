import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { TestRegistry } from '@sov/testing';

/**
 * A durable event-driven agent (@sov/events with `durable`) in its own
 * process, killed with SIGKILL while events it acknowledged are queued or in
 * flight, then started again on the same directory: every acknowledged event
 * is handled, and the registry stream resumes where it stopped, so peers that
 * joined and left while it was down are not missed.
 */
const fixture = join(__dirname, '..', 'fixtures', 'durableEventsAgent.mjs');
const quiet = createLogger({ silent: true });

class Child {
  readonly lines: string[] = [];
  readonly proc: ChildProcess;
  private stderr = '';

  constructor(env: Record<string, string>) {
    this.proc = spawn(process.execPath, [fixture], { cwd: join(__dirname, '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      this.lines.push(...parts);
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
  }

  async until(cond: (lines: string[]) => boolean, what: string, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond(this.lines)) {
      if (!this.alive) throw new Error(`the agent exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${what}: ${this.stderr}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stdout: ${this.lines.slice(-5).join(' | ')} stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  kill(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGKILL');
    });
  }
}

describe('a durable event-driven agent killed with SIGKILL', () => {
  let registry: TestRegistry;
  let dir: string;
  const agents: Agent[] = [];
  const children: Child[] = [];

  beforeAll(async () => {
    registry = await TestRegistry.start();
    dir = mkdtempSync(join(tmpdir(), 'sov-durable-events-'));
  });
  afterAll(async () => {
    for (const c of children) await c.kill();
    await Promise.all(agents.map((a) => a.shutdown()));
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const peer = async (name: string) => {
    const a = new Agent({ name, registryUrl: registry.url, identity: Identity.generate(), logger: quiet, port: 0 });
    agents.push(a);
    await a.start();
    return a;
  };

  it('handles every acknowledged event after the restart and misses no peer that came or went meanwhile', async () => {
    const env = { REGISTRY_URL: registry.url, EVENTS_DIR: join(dir, 'events'), KEY_FILE: join(dir, 'agent.json'), COUNT: '40' };
    const x = await peer('x');

    const first = new Child({ ...env, MODE: 'first' });
    children.push(first);
    await first.until((l) => l.includes('READY'), 'READY');
    // The agent follows the registry from its start: x joined before, x2 after.
    const x2 = await peer('x2');
    await first.until((l) => l.includes(`PEER joined ${x2.id}`), 'x2 joined');
    await first.until((l) => l.includes('EMITTED'), 'every emit acknowledged');
    await first.kill();

    const acked = new Map(first.lines.filter((l) => l.startsWith('ACK ')).map((l) => [l.split(' ')[1]!, Number(l.split(' ')[2])]));
    expect(acked.size).toBe(40);
    const handledFirst = new Set(first.lines.filter((l) => l.startsWith('HANDLED ')).map((l) => l.split(' ')[1]!));

    // While it is down: y joins, x and x2 leave.
    const y = await peer('y');
    await x.shutdown();
    await x2.shutdown();

    const second = new Child({ ...env, MODE: 'second' });
    children.push(second);
    const handledSecond = () => new Set(second.lines.filter((l) => l.startsWith('HANDLED ')).map((l) => l.split(' ')[1]!));
    await second.until(() => [...acked.keys()].every((id) => handledFirst.has(id) || handledSecond().has(id)), 'every acknowledged event handled');
    await second.until(
      (l) => l.includes(`PEER joined ${y.id}`) && l.includes(`PEER left ${x.id}`) && l.includes(`PEER left ${x2.id}`),
      'the registry events of while it was down',
    );

    // The odd jobs never finished in the first run: the second handles each of them, with the id it was acknowledged with.
    const odd = [...acked].filter(([, n]) => n % 2 === 1).map(([id]) => id);
    expect(odd.every((id) => handledSecond().has(id))).toBe(true);
    // Nothing is handled that was never acknowledged.
    for (const id of handledSecond()) expect(acked.has(id)).toBe(true);
    await second.kill();
  });
});
