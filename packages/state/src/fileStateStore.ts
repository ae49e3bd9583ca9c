import { join, resolve } from 'node:path';
import { systemClock, ValidationError, type Clock, type Logger } from '@sov/core';
import { StateClosedError } from './errors/stateClosedError';
import { isStateWriteFailedError, StateWriteFailedError } from './errors/stateWriteFailedError';
import { asError } from './internal/asError';
import { fsyncDir } from './internal/atomicWrite';
import { encodeOps, JournalWriter } from './internal/journal';
import { DirectoryLock } from './internal/lock';
import { namespaceDir } from './internal/namespaceDir';
import { recover } from './internal/recover';
import { silentLogger } from './internal/silentLogger';
import { writeSnapshot } from './internal/snapshot';
import { nodeStateFs, type StateFileHandle, type StateFs } from './internal/stateFs';
import { stateFiles } from './internal/stateFiles';
import { StateTable, type PreparedOp, type UndoEntry } from './internal/stateTable';
import { resolveStateLimits, type ResolvedStateLimits, type StateLimits } from './stateLimits';
import type { JsonValue, StateHealth, StateOperation, StateStore } from './stateStore';

/** How a FileStateStore makes writes durable. */
export type StateDurability = 'journal' | 'checkpoint';

/** Options of a FileStateStore. */
export interface FileStateStoreOptions {
  /** The state directory; created if missing. */
  dir: string;
  /**
   * A sub-directory of `dir` for this store, typically the agent id; encoded
   * into a safe file name. @default none: the files go in `dir` itself
   */
  namespace?: string;
  /**
   * `journal`: every write is appended to a journal and fsynced before its
   * promise resolves (concurrent writes share one fsync); nothing
   * acknowledged is lost in a crash.
   * `checkpoint`: writes stay in memory and a snapshot is written every
   * `checkpointIntervalMs` and at close, when something changed; a crash
   * loses the writes since the last snapshot.
   * @default 'journal'
   */
  durability?: StateDurability;
  /** Checkpoint mode: time between snapshots. @default 60_000 */
  checkpointIntervalMs?: number;
  /**
   * Journal mode: the journal is folded into a new snapshot once it is larger
   * than this and than the last snapshot. @default 16 MiB
   */
  compactAfterBytes?: number;
  /**
   * A lock held by a process on another host (a shared volume) that has not
   * been refreshed for this long is taken over; the owner refreshes it every
   * third of this. A lock of a dead process on this host is taken over at once.
   * @default 30_000
   */
  lockStaleMs?: number;
  /**
   * Open a journal with a damaged record in the middle by skipping that record
   * (the damaged file is kept aside) instead of failing with STATE_CORRUPT.
   * @default false
   */
  repair?: boolean;
  /** @default silent */
  logger?: Logger;
  /** Time source for checkpoints, compaction retries and the lock. @default the system clock */
  clock?: Clock;
  /**
   * Bounds every value is checked against before it is accepted (depth,
   * bytes per value, bytes per write); a value past one is refused with
   * NOT_SERIALIZABLE. @default { maxDepth: 64, maxValueBytes: 16 MiB, maxBatchBytes: 64 MiB }
   */
  limits?: StateLimits;
  /**
   * The file system calls the store makes, for fault-injection tests.
   * @internal not part of the stable API
   * @default Node's fs/promises
   */
  fs?: StateFs;
}

/** What a file store found and did when it opened. */
export interface RecoveryReport {
  /** Generation of the snapshot loaded, when there was one. */
  snapshotGen: number | undefined;
  /** Entries read from the snapshot. */
  snapshotEntries: number;
  /** Journal files replayed. */
  journalFiles: number;
  /** Journal records replayed. */
  journalRecords: number;
  /** Bytes of a torn journal tail dropped (writes that were never acknowledged). */
  tornBytes: number;
  /** Damage found and how it was handled; empty when the files were whole. */
  damage: string[];
  /** Damaged files kept aside, renamed with a timestamp. */
  keptAside: string[];
  /** Keys in the recovered state. */
  keys: number;
  /** Time the recovery took. */
  durationMs: number;
}

/** A snapshot that was written. */
export interface CheckpointInfo {
  /** Generation of the snapshot file. */
  gen: number;
  entries: number;
  bytes: number;
  durationMs: number;
  reason: 'interval' | 'close' | 'manual' | 'compaction' | 'recovery';
}

type Phase = 'new' | 'opening' | 'open' | 'closing' | 'closed';

const DEFAULT_CHECKPOINT_MS = 60_000;
const DEFAULT_COMPACT_BYTES = 16 * 1024 * 1024;
const DEFAULT_LOCK_STALE_MS = 30_000;
/** First wait before a failed compaction is tried again; doubles at each failure up to the maximum. */
const COMPACTION_RETRY_MS = 1_000;
const COMPACTION_RETRY_MAX_MS = 5 * 60_000;

/** One kind of failure the store is living with: journal writes, or snapshots. */
interface FailureEpisode {
  error: StateWriteFailedError;
  since: number;
  count: number;
}

const COMPACTION_LATER = 'the journal keeps every write and grows until a later compaction succeeds';
const CHECKPOINT_LATER = 'the changes since the last snapshot stay in memory only, and are written at the next checkpoint';

/**
 * A StateStore in a directory, safe across crashes, with one writer per
 * directory (a second process fails with STATE_LOCKED).
 *
 * In `journal` mode (the default) every write is on disk before its promise
 * resolves; in `checkpoint` mode writes are kept in memory and snapshotted
 * periodically, like the guide's StatefulAgent. Either way, opening recovers:
 * loads the snapshot, replays the journal, drops a torn last write, keeps a
 * damaged snapshot aside and says so in the log and in {@link recovery}.
 *
 * Values are copied on the way in and deeply frozen; reads return them
 * without a copy.
 *
 * @example
 * const store = await FileStateStore.open({ dir: './agent_state', namespace: agent.id });
 * await store.set('counter', 0);
 * await store.update<number>('counter', (n) => (n ?? 0) + 1);
 * await store.close();
 */
export class FileStateStore implements StateStore {
  /** The directory holding this store's files (`dir`, plus the encoded namespace). */
  readonly directory: string;
  /** The durability mode. */
  readonly durability: StateDurability;
  /** The bounds values are checked against (the defaults filled in). */
  readonly limits: ResolvedStateLimits;
  private readonly table: StateTable;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly fs: StateFs;
  private readonly options: FileStateStoreOptions;
  private readonly checkpointListeners = new Set<(info: CheckpointInfo) => void>();
  private phase: Phase = 'new';
  private lock: DirectoryLock | undefined;
  private writer: JournalWriter<UndoEntry[]> | undefined;
  private recovered: RecoveryReport | undefined;
  private maxGen = 0;
  private snapshotBytes = 0;
  private dirty = false;
  private checkpointTimer: unknown;
  private snapshotting: Promise<void> | undefined;
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private writeFailure: FailureEpisode | undefined;
  private snapshotFailure: FailureEpisode | undefined;
  private compactionRetry: unknown;
  private compactionRetries = 0;

  constructor(options: FileStateStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '') {
      throw new ValidationError('FileStateStore options', [{ path: '/dir', message: 'must be a non-empty directory path' }]);
    }
    if (options.namespace !== undefined && (typeof options.namespace !== 'string' || options.namespace === '')) {
      throw new ValidationError('FileStateStore options', [{ path: '/namespace', message: 'must be a non-empty string' }]);
    }
    const durability = options.durability ?? 'journal';
    if (durability !== 'journal' && durability !== 'checkpoint') {
      throw new ValidationError('FileStateStore options', [{ path: '/durability', message: `must be "journal" or "checkpoint", got ${String(durability)}` }]);
    }
    for (const field of ['checkpointIntervalMs', 'compactAfterBytes', 'lockStaleMs'] as const) {
      const v = options[field];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) {
        throw new ValidationError('FileStateStore options', [{ path: `/${field}`, message: `must be a positive number, got ${String(v)}` }]);
      }
    }
    this.limits = resolveStateLimits(options.limits, 'FileStateStore options');
    this.table = new StateTable(this.limits);
    this.options = options;
    this.durability = durability;
    this.directory = resolve(options.namespace === undefined ? options.dir : join(options.dir, namespaceDir(options.namespace)));
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.fs = options.fs ?? nodeStateFs;
  }

  /**
   * Creates a store and opens it.
   *
   * @example
   * const store = await FileStateStore.open({ dir: './agent_state', namespace: 'analyst' });
   */
  static async open(options: FileStateStoreOptions): Promise<FileStateStore> {
    const store = new FileStateStore(options);
    await store.open();
    return store;
  }

  /** What the last open() found and did (damage, torn tail, counts); undefined before open. */
  get recovery(): RecoveryReport | undefined {
    return this.recovered;
  }

  /** Whether the store is open for reads and writes. */
  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /**
   * Whether the store's writes reach the disk. Not ok while journal writes
   * fail (until the next one succeeds) or snapshots fail (until the next one
   * succeeds; in journal mode they are retried with backoff while the journal
   * grows); `detail` names the failure, the file and since when. Reads and
   * writes go on either way: a refused write rejects with STATE_WRITE_FAILED.
   */
  health(): StateHealth {
    if (this.phase !== 'open') return { ok: false, detail: this.phase === 'new' || this.phase === 'opening' ? 'not open' : 'closed' };
    const episode = this.writeFailure ?? this.snapshotFailure;
    if (!episode) return { ok: true, detail: this.durability };
    const more = this.writeFailure && this.snapshotFailure ? '; snapshots are failing too' : '';
    return {
      ok: false,
      detail: `${episode.error.message} (${episode.count} failure${episode.count === 1 ? '' : 's'} since ${new Date(episode.since).toISOString()}${more})`,
      error: episode.error,
    };
  }

  /**
   * Takes the directory lock and recovers the state. Fails with STATE_LOCKED
   * when another writer holds the directory, STATE_CORRUPT when a journal is
   * damaged in the middle (see `repair`). Safe to call twice.
   */
  open(): Promise<void> {
    if (this.phase === 'open') return Promise.resolve();
    if (this.opening) return this.opening;
    if (this.phase !== 'new') return Promise.reject(new StateClosedError(`State store ${this.directory} was closed; create a new one to reopen it`));
    this.phase = 'opening';
    this.opening = this.doOpen().then(
      () => {
        this.phase = 'open';
        this.opening = undefined;
      },
      async (e: unknown) => {
        this.phase = 'closed';
        this.opening = undefined;
        await this.lock?.release().catch(() => undefined);
        throw e;
      },
    );
    return this.opening;
  }

  /** The value under `key`, or undefined. Frozen. */
  get<T = JsonValue>(key: string): Promise<T | undefined> {
    return this.read(() => this.table.map.get(this.table.key(key)) as T | undefined);
  }

  /** Whether `key` has a value. */
  has(key: string): Promise<boolean> {
    return this.read(() => this.table.map.has(this.table.key(key)));
  }

  /** Every key, or those starting with `prefix`; in no particular order. */
  keys(prefix?: string): Promise<string[]> {
    return this.read(() => this.table.keys(prefix));
  }

  /** Every `[key, value]` pair, or those whose key starts with `prefix`; in no particular order. */
  entries<T = JsonValue>(prefix?: string): Promise<Array<[string, T]>> {
    return this.read(() => this.table.entries(prefix) as Array<[string, T]>);
  }

  /**
   * Stores a frozen copy of `value`; resolves once durable (journal mode).
   * Refuses non-JSON, and values past `limits`, with NOT_SERIALIZABLE; a write
   * the disk refuses rejects with STATE_WRITE_FAILED and is rolled back.
   */
  set(key: string, value: unknown): Promise<void> {
    try {
      this.assertOpen();
      return this.write([this.table.prepareSet(key, value)]);
    } catch (e) {
      return Promise.reject(asError(e));
    }
  }

  /** Replaces the value under `key` with `fn(current)` atomically; resolves to the stored value once durable. */
  async update<T = JsonValue>(key: string, fn: (current: T | undefined) => T): Promise<T> {
    this.assertOpen();
    const k = this.table.key(key);
    const op = this.table.prepareSet(k, fn(this.table.map.get(k) as T | undefined)) as Extract<PreparedOp, { type: 'set' }>;
    await this.write([op]);
    return op.value as T;
  }

  /** Removes `key`; resolves to whether it had a value, once durable. */
  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    const k = this.table.key(key);
    if (!this.table.map.has(k)) {
      // Nothing to write, but an earlier write of this key may still be on its way to disk.
      await this.flushWrites();
      return false;
    }
    await this.write([this.table.prepareDelete(k)]);
    return true;
  }

  /** Applies every operation or none, as one journal record. */
  async batch(operations: readonly StateOperation[]): Promise<void> {
    this.assertOpen();
    const ops = this.table.prepareBatch(operations);
    if (ops.length === 0) return this.flushWrites();
    await this.write(ops);
  }

  /** Journal mode: resolves once every earlier write is durable. Checkpoint mode: writes a snapshot if anything changed. */
  async flush(): Promise<void> {
    this.assertOpen();
    if (this.durability === 'journal') return this.flushWrites();
    await this.snapshot('manual', false);
  }

  /**
   * Writes a snapshot now: in journal mode, folds the journal into it; in
   * checkpoint mode, only if something changed since the last one.
   */
  async checkpoint(): Promise<void> {
    this.assertOpen();
    await this.snapshot(this.durability === 'journal' ? 'compaction' : 'manual', this.durability === 'journal');
  }

  /** Subscribes to written snapshots (interval, close, compaction ...); returns a function that unsubscribes. */
  onCheckpoint(listener: (info: CheckpointInfo) => void): () => void {
    this.checkpointListeners.add(listener);
    return () => this.checkpointListeners.delete(listener);
  }

  /**
   * Waits for pending writes (checkpoint mode: writes a last snapshot if
   * anything changed), closes the files and releases the lock. Later calls
   * reject with STATE_CLOSED. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doOpen(): Promise<void> {
    await this.fs.mkdir(this.directory, { recursive: true });
    this.lock = await DirectoryLock.acquire(this.directory, {
      clock: this.clock,
      logger: this.logger,
      staleMs: this.options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS,
    });
    const rec = await recover(this.directory, this.table.map, {
      repair: this.options.repair ?? false,
      logger: this.logger,
      clock: this.clock,
      fs: this.fs,
    });
    this.recovered = rec.report;
    this.maxGen = rec.maxGen;
    this.snapshotBytes = rec.snapshotBytes;
    if (this.durability === 'journal') {
      const file = rec.lastJournal
        ? { ...rec.lastJournal, fh: await this.fs.open(rec.lastJournal.path, 'a') }
        : await this.createJournal(rec.report.snapshotGen ?? 1);
      this.maxGen = Math.max(this.maxGen, file.gen);
      this.writer = new JournalWriter<UndoEntry[]>(file, {
        afterCommit: (size) => {
          const limit = Math.max(this.options.compactAfterBytes ?? DEFAULT_COMPACT_BYTES, this.snapshotBytes);
          // While a failed compaction waits for its retry, commits do not start another one.
          if (size >= limit && !this.snapshotting && this.compactionRetry === undefined && this.phase === 'open') {
            this.snapshot('compaction', true).catch(() => undefined);
          }
        },
        onWriteFailed: (error, undo) => {
          // Every unacknowledged write is refused: undo them, newest first, so memory matches the journal.
          for (let i = undo.length - 1; i >= 0; i--) this.table.revert(undo[i]!);
          this.writeFailure = this.failed(this.writeFailure, error, 'state journal write failed: writes are refused until the disk takes them again');
        },
        onRecovered: () => {
          this.logRecovery(this.writeFailure, 'state journal writes succeed again');
          this.writeFailure = undefined;
        },
      });
      if (rec.needsSnapshot) {
        try {
          await this.snapshot('recovery', true);
        } catch (e) {
          await this.writer.close().catch(() => undefined);
          throw e;
        }
      }
    } else {
      if (rec.needsSnapshot || rec.report.journalFiles > 0) {
        this.dirty = true;
        await this.snapshot('recovery', false);
      }
      this.scheduleCheckpoint();
    }
    await Promise.all(rec.leftovers.map((p) => this.fs.rm(p, { force: true })));
    const r = rec.report;
    this.logger.info('state opened', {
      dir: this.directory,
      durability: this.durability,
      keys: r.keys,
      snapshotGen: r.snapshotGen,
      journalRecords: r.journalRecords,
      tornBytes: r.tornBytes,
      damaged: r.damage.length > 0,
      durationMs: r.durationMs,
    });
  }

  private async createJournal(gen: number): Promise<{ fh: StateFileHandle; gen: number; path: string; size: number; nextCommit: number }> {
    const path = stateFiles.journal(this.directory, gen);
    const fh = await this.fs.open(path, 'a');
    try {
      await fsyncDir(this.fs, this.directory);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    return { fh, gen, path, size: 0, nextCommit: 0 };
  }

  private write(ops: PreparedOp[]): Promise<void> {
    if (this.writer) {
      const undo = ops.map((op) => this.table.apply(op));
      return this.writer.append(encodeOps(ops), undo);
    }
    for (const op of ops) this.table.apply(op);
    this.dirty = true;
    return Promise.resolve();
  }

  /** Records a failure: the first of an episode is logged (error level), later ones only counted. */
  private failed(episode: FailureEpisode | undefined, error: StateWriteFailedError, message: string): FailureEpisode {
    if (episode) {
      episode.count++;
      episode.error = error;
      return episode;
    }
    this.logger.error(message, { dir: this.directory, operation: error.operation, path: error.path, errno: error.errno, error: error.message });
    return { error, since: this.clock.now(), count: 1 };
  }

  private logRecovery(episode: FailureEpisode | undefined, message: string): void {
    if (episode) this.logger.info(message, { dir: this.directory, failures: episode.count, failingForMs: this.clock.now() - episode.since });
  }

  private flushWrites(): Promise<void> {
    return this.writer?.barrier() ?? Promise.resolve();
  }

  /**
   * Writes a snapshot of a new generation. Journal mode (`rotate`): switches
   * to a new journal first and copies the state at the switch, so the snapshot
   * holds everything the older journals hold; then removes the older files.
   * One snapshot at a time.
   */
  private snapshot(reason: CheckpointInfo['reason'], rotate: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (!rotate && !this.dirty) return;
      const t0 = this.clock.now();
      const gen = this.maxGen + 1;
      const path = stateFiles.snapshot(this.directory, gen);
      const consequence = rotate ? COMPACTION_LATER : CHECKPOINT_LATER;
      let entries: Array<[string, JsonValue]> = [];
      const copy = () => {
        const writer = this.writer;
        if (rotate && writer) {
          // Only what is durable: writes still on their way to the new journal are replayed from it.
          const durable = new Map(this.table.map);
          const pending = writer.pendingUndo();
          for (let i = pending.length - 1; i >= 0; i--) this.table.revert(pending[i]!, durable);
          entries = [...durable];
        } else {
          entries = [...this.table.map];
        }
        this.dirty = false;
      };
      try {
        if (rotate && this.writer) {
          await this.writer.rotate(async () => {
            const j = await this.createJournal(gen);
            return { fh: j.fh, gen, path: j.path };
          }, copy);
          this.maxGen = gen;
        } else {
          copy();
          this.maxGen = gen;
        }
        this.snapshotBytes = await writeSnapshot(this.fs, path, gen, entries, consequence);
      } catch (e) {
        if (!rotate) this.dirty = true;
        const error = isStateWriteFailedError(e) ? e : new StateWriteFailedError(rotate ? 'journal rotation' : 'snapshot', path, e, consequence);
        this.snapshotFailure = this.failed(
          this.snapshotFailure,
          error,
          rotate ? 'state compaction failed: the journal keeps growing; retrying with backoff' : 'state checkpoint failed: retrying at the next interval',
        );
        if (rotate) this.scheduleCompactionRetry();
        throw error;
      }
      this.logRecovery(this.snapshotFailure, 'state snapshots succeed again');
      this.snapshotFailure = undefined;
      this.compactionRetries = 0;
      await this.removeOlderThan(gen).catch((e: unknown) =>
        this.logger.warn('could not remove state files an up-to-date snapshot replaces; the next snapshot tries again', {
          dir: this.directory,
          error: (e as Error).message,
        }),
      );
      const info: CheckpointInfo = { gen, entries: entries.length, bytes: this.snapshotBytes, durationMs: this.clock.now() - t0, reason };
      this.logger.debug('state snapshot written', { dir: this.directory, ...info });
      for (const listener of this.checkpointListeners) listener(info);
    };
    const previous = this.snapshotting ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(run);
    const tracked = next.finally(() => {
      if (this.snapshotting === tracked) this.snapshotting = undefined;
    });
    // The caller gets `next`; the tracked copy must never surface as an unhandled rejection.
    tracked.catch(() => undefined);
    this.snapshotting = tracked;
    return next;
  }

  private scheduleCompactionRetry(): void {
    if (this.compactionRetry !== undefined || this.phase !== 'open') return;
    const delay = Math.min(COMPACTION_RETRY_MS * 2 ** this.compactionRetries, COMPACTION_RETRY_MAX_MS);
    this.compactionRetries++;
    this.compactionRetry = this.clock.setTimeout(() => {
      this.compactionRetry = undefined;
      // A failure schedules the next attempt itself.
      if (this.phase === 'open') this.snapshot('compaction', true).catch(() => undefined);
    }, delay);
  }

  private async removeOlderThan(gen: number): Promise<void> {
    const files = stateFiles.classify(await this.fs.readdir(this.directory));
    await Promise.all([
      ...files.snapshots.filter((g) => g < gen).map((g) => this.fs.rm(stateFiles.snapshot(this.directory, g), { force: true })),
      ...files.journals.filter((g) => g < gen).map((g) => this.fs.rm(stateFiles.journal(this.directory, g), { force: true })),
    ]);
  }

  private scheduleCheckpoint(): void {
    const every = this.options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_MS;
    this.checkpointTimer = this.clock.setTimeout(() => {
      this.checkpointTimer = undefined;
      if (this.phase !== 'open') return;
      // A failure is logged (once per episode) and reported by health(); the next interval tries again.
      this.snapshot('interval', false)
        .catch(() => undefined)
        .finally(() => {
          if (this.phase === 'open') this.scheduleCheckpoint();
        });
    }, every);
  }

  private async doClose(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    const wasOpen = this.phase === 'open';
    if (this.phase !== 'closed') this.phase = 'closing';
    if (this.checkpointTimer !== undefined) this.clock.clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.compactionRetry !== undefined) this.clock.clearTimeout(this.compactionRetry);
    this.compactionRetry = undefined;
    let error: Error | undefined;
    try {
      if (wasOpen) {
        await this.snapshotting?.catch(() => undefined);
        if (this.writer) {
          await this.writer.barrier().catch(() => undefined);
          await this.writer.close();
        } else if (this.dirty) {
          await this.snapshot('close', false);
        }
      }
    } catch (e) {
      error = asError(e);
      this.logger.error('state store did not close cleanly', { dir: this.directory, error: error.message });
    } finally {
      this.phase = 'closed';
      await this.lock?.release().catch(() => undefined);
    }
    if (error !== undefined) throw error;
  }

  // Reads answer with a promise, a refusal included (the StateStore contract), without an async frame.
  private read<T>(fn: () => T): Promise<T> {
    try {
      this.assertOpen();
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(asError(e));
    }
  }

  private assertOpen(): void {
    if (this.phase === 'open') return;
    if (this.phase === 'new' || this.phase === 'opening') throw new StateClosedError(`State store ${this.directory} is not open; call open() first`);
    throw new StateClosedError(`State store ${this.directory} is closed`);
  }
}
