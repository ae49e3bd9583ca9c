import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock, Logger } from '@sov/core';
import { StateLockedError } from '../errors/stateLockedError';

/** What a lock file says about its owner. */
interface LockOwner {
  pid: number;
  host: string;
  token: string;
  /** The owner's start time as /proc/<pid>/stat gives it (Linux), to tell a reused pid. */
  procStart: string | undefined;
  createdAt: string;
}

// Lock files this process holds, by path, with their tokens: a second open in
// the same process is refused too.
const held = new Map<string, string>();

function procStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may contain spaces, so count after its ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string') return o as LockOwner;
  } catch {
    // fall through: unreadable
  }
  return undefined;
}

async function readRaw(path: string): Promise<{ raw: string; mtimeMs: number } | undefined> {
  try {
    const [raw, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { raw, mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Creates `path` holding `content`, failing with EEXIST if it exists; readers never see it empty. */
async function createExclusive(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, content);
  try {
    await link(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Options of a DirectoryLock. */
export interface DirectoryLockOptions {
  clock: Clock;
  logger: Logger;
  /** A lock from another host that was not refreshed for this long is stale. */
  staleMs: number;
}

/**
 * One writer per directory, across processes: a `LOCK` file created
 * exclusively, holding the owner's pid, host, start time and a token.
 *
 * A lock is stale, and taken over, when its owner is on this host and its pid
 * is gone (or now belongs to another process: a different start time, or our
 * own pid without our token, as after a container restart); or when it is
 * unreadable; or, for an owner on another host (a shared volume), when the
 * owner stopped refreshing its mtime for `staleMs`.
 */
export class DirectoryLock {
  private refreshTimer: unknown;
  private released = false;

  private constructor(
    readonly path: string,
    private readonly token: string,
    private readonly options: DirectoryLockOptions,
  ) {}

  /** Takes the lock of `dir`, or throws a StateLockedError naming the owner. */
  static async acquire(dir: string, options: DirectoryLockOptions): Promise<DirectoryLock> {
    const path = join(dir, 'LOCK');
    const token = randomUUID();
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      token,
      procStart: procStartOf(process.pid),
      createdAt: new Date(options.clock.now()).toISOString(),
    };
    const content = JSON.stringify(owner);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await createExclusive(path, content);
        held.set(path, token);
        const lock = new DirectoryLock(path, token, options);
        lock.scheduleRefresh();
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const current = await readRaw(path);
      if (!current) continue;
      const reason = DirectoryLock.staleReason(path, current, options);
      if (typeof reason !== 'string') throw reason;
      await DirectoryLock.takeOver(path, current.raw, reason, options);
    }
    throw new StateLockedError(path, `State directory ${dir} is locked: the lock file ${path} kept changing while taking it`);
  }

  /** Why the lock is stale, or the StateLockedError to throw when it is held. */
  private static staleReason(path: string, current: { raw: string; mtimeMs: number }, options: DirectoryLockOptions): string | StateLockedError {
    const owner = parseOwner(current.raw);
    if (!owner) return 'the lock file is unreadable';
    const who = `pid ${owner.pid} on ${owner.host}`;
    if (owner.host !== hostname()) {
      const age = options.clock.now() - current.mtimeMs;
      if (age > options.staleMs) return `${who} has not refreshed it for ${Math.round(age / 1000)} s`;
      return new StateLockedError(
        path,
        `State directory is locked by ${who} (lock file ${path}, refreshed ${Math.round(age / 1000)} s ago); it is taken over once not refreshed for ${Math.round(options.staleMs / 1000)} s`,
        owner,
      );
    }
    if (owner.pid === process.pid) {
      if (held.get(path) === owner.token) {
        return new StateLockedError(path, `State directory is already open in this process (pid ${owner.pid}, lock file ${path}); close the other store first`, owner);
      }
      return `${who} is an earlier process that had our pid`;
    }
    if (!isAlive(owner.pid)) return `${who} is no longer running`;
    const start = procStartOf(owner.pid);
    if (owner.procStart !== undefined && start !== undefined && start !== owner.procStart) return `${who} has exited and its pid was reused`;
    return new StateLockedError(path, `State directory is locked by running process ${who} (lock file ${path}); only one writer may open it`, owner);
  }

  /** Removes a stale lock, unless another process got there first (one takeover at a time, under LOCK.takeover). */
  private static async takeOver(path: string, staleRaw: string, reason: string, options: DirectoryLockOptions): Promise<void> {
    const guard = `${path}.takeover`;
    try {
      await createExclusive(guard, JSON.stringify({ pid: process.pid, host: hostname(), token: randomUUID(), procStart: undefined, createdAt: '' }));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Another process is taking over; its guard is stale only if it died meanwhile.
      const other = await readRaw(guard);
      if (other && typeof DirectoryLock.staleReason(guard, other, options) === 'string') await rm(guard, { force: true });
      return;
    }
    try {
      const now = await readRaw(path);
      if (now?.raw === staleRaw) {
        options.logger.warn('taking over a stale state lock', { lockPath: path, reason });
        await rm(path, { force: true });
      }
    } finally {
      await rm(guard, { force: true });
    }
  }

  private scheduleRefresh(): void {
    const every = Math.max(1, Math.floor(this.options.staleMs / 3));
    this.refreshTimer = this.options.clock.setTimeout(() => {
      void this.refresh().finally(() => {
        if (!this.released) this.scheduleRefresh();
      });
    }, every);
  }

  private async refresh(): Promise<void> {
    try {
      const current = await readRaw(this.path);
      if (parseOwner(current?.raw ?? '')?.token !== this.token) {
        this.options.logger.error('state lock file was removed or replaced by another process', { lockPath: this.path });
        return;
      }
      const now = new Date(this.options.clock.now());
      await utimes(this.path, now, now);
    } catch (e) {
      this.options.logger.warn('could not refresh the state lock', { lockPath: this.path, error: (e as Error).message });
    }
  }

  /** Releases the lock (only if the file is still ours). Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.refreshTimer !== undefined) this.options.clock.clearTimeout(this.refreshTimer);
    if (held.get(this.path) === this.token) held.delete(this.path);
    const current = await readRaw(this.path).catch(() => undefined);
    if (parseOwner(current?.raw ?? '')?.token === this.token) await rm(this.path, { force: true });
  }
}
