import { spawnSync } from 'node:child_process';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isStateLockedError, type StateLockedError } from '../errors/stateLockedError';
import { FileStateStore } from '../fileStateStore';
import { runFixture } from './childProcess';
import { recordingLogger } from './recordingLogger';
import { useTempDirs } from './tempDir';

const tempDir = useTempDirs();

async function openError(dir: string): Promise<StateLockedError> {
  const error = await FileStateStore.open({ dir }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStateLockedError(error)) throw new Error(`expected a StateLockedError, got ${String(error)}`);
  return error;
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid;
}

describe('one writer per directory', () => {
  it('refuses a second store on the same directory in the same process', async () => {
    const dir = tempDir();
    const first = await FileStateStore.open({ dir });
    const error = await openError(dir);
    expect(error.code).toBe('STATE_LOCKED');
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain(join(dir, 'LOCK'));
    await first.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    const second = await FileStateStore.open({ dir });
    await second.close();
  });

  it('refuses a second process, names its pid, and takes the lock over once that process is killed', async () => {
    const dir = tempDir();
    const holder = runFixture('holdState.ts', [dir]);
    try {
      const line = await holder.waitForLine(/^(open|failed)/);
      expect(line).toBe(`open ${holder.process.pid}`);
      const error = await openError(dir);
      expect(error.ownerPid).toBe(holder.process.pid);
      expect(error.message).toMatch(new RegExp(`locked by running process pid ${holder.process.pid} on `));
    } finally {
      await holder.kill();
    }
    const logger = recordingLogger();
    const store = await FileStateStore.open({ dir, logger });
    expect(await store.get('holder')).toBe(holder.process.pid);
    expect(logger.lines.find((l) => l.level === 'warn')?.meta).toMatchObject({ reason: `pid ${holder.process.pid} on ${hostname()} is no longer running` });
    await store.close();
  }, 20_000);

  it('a second process fails to open a directory this process holds', async () => {
    const dir = tempDir();
    const store = await FileStateStore.open({ dir });
    const child = runFixture('holdState.ts', [dir]);
    expect(await child.waitForLine(/^(open|failed)/)).toBe('failed STATE_LOCKED');
    expect(await child.exited).toBe(3);
    await store.close();
  }, 20_000);

  it.each([
    ['a process that is gone', () => ({ pid: deadPid(), host: hostname(), token: 't', createdAt: '' })],
    ['an earlier process that had our pid (container restart)', () => ({ pid: process.pid, host: hostname(), token: 'other', createdAt: '' })],
    ['a process whose pid was reused', () => ({ pid: process.ppid, host: hostname(), token: 't', procStart: '1', createdAt: '' })],
  ])('takes over a stale lock of %s', async (_label, owner) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), JSON.stringify(owner()));
    const logger = recordingLogger();
    const store = await FileStateStore.open({ dir, logger });
    expect(logger.messages('warn')).toEqual(['taking over a stale state lock']);
    await store.close();
  });

  it('takes over an unreadable lock file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), '');
    const store = await FileStateStore.open({ dir });
    await store.close();
  });

  it('respects a live lock of another host until it is not refreshed for lockStaleMs', async () => {
    const dir = tempDir();
    const lock = join(dir, 'LOCK');
    writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere', token: 't', createdAt: '' }));
    const error = await openError(dir);
    expect(error.ownerHost).toBe('elsewhere');
    expect(error.message).toMatch(/pid 1 on elsewhere .*taken over once not refreshed for 30 s/);
    const old = new Date(Date.now() - 31_000);
    utimesSync(lock, old, old);
    const store = await FileStateStore.open({ dir });
    await store.close();
  });

  it('refreshes its own lock so other hosts see it alive', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const dir = tempDir();
      const store = await FileStateStore.open({ dir, lockStaleMs: 3000 });
      const lock = join(dir, 'LOCK');
      const { statSync } = await import('node:fs');
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old);
      await jest.advanceTimersByTimeAsync(1000);
      // The refresh is a few file-system calls; let them run (setImmediate and hrtime are not faked),
      // for up to 10 s of real time: on a loaded machine 2,000 turns of the loop were not always enough.
      const giveUp = process.hrtime.bigint() + 10_000_000_000n;
      while (Date.now() - statSync(lock).mtimeMs > 5000 && process.hrtime.bigint() < giveUp) await new Promise((r) => setImmediate(r));
      expect(Date.now() - statSync(lock).mtimeMs).toBeLessThan(5000);
      await store.close();
    } finally {
      jest.useRealTimers();
    }
  });
});
