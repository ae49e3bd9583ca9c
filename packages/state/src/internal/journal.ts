import { StateClosedError } from '../errors/stateClosedError';
import { StateWriteFailedError } from '../errors/stateWriteFailedError';
import { writeAll } from './atomicWrite';
import { encodeRecord, readRecords } from './records';
import type { StateFileHandle } from './stateFs';

// A journal file holds one record per write (a batch is one record):
//   <crc32> [<commit>,[["s","key",<value>],["d","key"],...]]\n
// `commit` numbers the group commit (one write + fsync) the record went out in;
// recovery uses it to tell a torn last commit from damage in the middle.

/** One operation as a journal record holds it. */
export type JournalOp = readonly ['s', string, unknown] | readonly ['d', string];

/** Encodes the operations of one record (without the commit number); a set's `json`, when given, is its value's JSON already made. */
export function encodeOps(
  ops: ReadonlyArray<{ type: 'set'; key: string; value: unknown; json?: string } | { type: 'delete'; key: string }>,
): string {
  let out = '[';
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (i > 0) out += ',';
    out += op.type === 'set' ? `["s",${JSON.stringify(op.key)},${op.json ?? JSON.stringify(op.value)}]` : `["d",${JSON.stringify(op.key)}]`;
  }
  return `${out}]`;
}

interface Group<U> {
  ops: string[];
  undo: U[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newGroup<U>(): Group<U> {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failed group is reported through the writers' own promises; never as an unhandled rejection.
  promise.catch(() => undefined);
  return { ops: [], undo: [], promise, resolve, reject };
}

interface Rotation {
  openNext: () => Promise<{ fh: StateFileHandle; gen: number; path: string }>;
  onSwitched: () => void;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Hooks a JournalWriter calls. */
export interface JournalWriterHooks<U> {
  /** After each group commit, with the journal file's size. */
  afterCommit?(size: number): void;
  /**
   * A group commit failed: every record in it, and every record appended
   * behind it, was refused with `error`. `undo` holds their undo data in the
   * order they were appended. Called synchronously, before any later append.
   */
  onWriteFailed?(error: StateWriteFailedError, undo: U[]): void;
  /** The first group commit that succeeded after a failure. */
  onRecovered?(): void;
}

const REFUSED = 'the write was not applied, nor any write committed with it; the store stays open and the next write tries again';

/**
 * Appends records to a journal file with group commit: the first write goes
 * out at once; writes that arrive while its fsync is in flight are appended
 * together and share the next fsync. Every append resolves once its record is
 * on disk.
 *
 * A failed write or fsync rejects its group and every group queued behind it
 * with STATE_WRITE_FAILED, and the file is cut back to its last good length
 * before anything else is written to it, so a refused record never lands in
 * the middle of the journal. The writer stays usable: the next append tries
 * again.
 */
export class JournalWriter<U = unknown> {
  private fh: StateFileHandle;
  private filePath: string;
  private fileGen: number;
  /** Bytes of the file that hold acknowledged records. */
  private fileSize: number;
  private nextCommit: number;
  private open: Group<U> | undefined;
  private inFlight: Group<U> | undefined;
  private running: Promise<void> | undefined;
  private rotation: Rotation | undefined;
  /** Bytes past `fileSize` may be in the file (a write failed): cut it back before writing. */
  private damaged = false;
  private failing = false;
  private closed = false;

  constructor(
    file: { fh: StateFileHandle; path: string; gen: number; size: number; nextCommit: number },
    private readonly hooks: JournalWriterHooks<U> = {},
  ) {
    this.fh = file.fh;
    this.filePath = file.path;
    this.fileGen = file.gen;
    this.fileSize = file.size;
    this.nextCommit = file.nextCommit;
  }

  /** Generation of the file being written. */
  get gen(): number {
    return this.fileGen;
  }

  /** Size in bytes of the acknowledged records of the file being written. */
  get size(): number {
    return this.fileSize;
  }

  /** Appends one record (the encoded operations); resolves once it is durable. `undo` is handed back if it is refused. */
  append(opsJson: string, undo?: U): Promise<void> {
    if (this.closed) return Promise.reject(new StateClosedError(`Journal ${this.filePath} is closed`));
    const group = (this.open ??= newGroup<U>());
    group.ops.push(opsJson);
    if (undo !== undefined) group.undo.push(undo);
    this.running ??= this.run();
    return group.promise;
  }

  /** Resolves once every record appended so far is durable; rejects when one of them was refused. */
  barrier(): Promise<void> {
    return (this.open ?? this.inFlight)?.promise ?? Promise.resolve();
  }

  /** The undo data of every record appended and not yet durable, in the order appended. */
  pendingUndo(): U[] {
    const out: U[] = [];
    if (this.inFlight) out.push(...this.inFlight.undo);
    if (this.open) out.push(...this.open.undo);
    return out;
  }

  /**
   * Switches to a new journal file between two group commits: every record
   * appended before the switch is in the old file (durable), every record
   * after it goes to the new one. `onSwitched` runs synchronously at the
   * switch, the moment to copy the state a snapshot must hold.
   */
  rotate(openNext: Rotation['openNext'], onSwitched: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new StateClosedError(`Journal ${this.filePath} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.rotation = { openNext, onSwitched, resolve, reject };
      this.running ??= this.run();
    });
  }

  /** Waits for every appended record, then closes the file. Later appends reject with STATE_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
    if (this.damaged) await this.cutBack().catch(() => undefined);
    await this.fh.close();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.rotation) await this.switchFile(this.rotation);
        const group = this.open;
        if (!group) return;
        this.open = undefined;
        this.inFlight = group;
        const commit = this.nextCommit++;
        let text = '';
        for (const ops of group.ops) text += encodeRecord(`[${commit},${ops}]`);
        const buf = Buffer.from(text, 'utf8');
        let operation = 'truncate (to drop a refused record)';
        try {
          if (this.damaged) await this.cutBack();
          operation = 'write';
          this.damaged = true;
          await writeAll(this.fh, buf);
          operation = 'fdatasync';
          await this.fh.datasync();
          this.damaged = false;
        } catch (cause) {
          this.nextCommit = commit;
          const error = new StateWriteFailedError(operation, this.filePath, cause, REFUSED);
          const refused = this.fail(error);
          // Cut the refused bytes off before telling anyone, so that the file is clean even if nothing else is written.
          if (this.damaged) await this.cutBack().catch(() => undefined);
          for (const g of refused) g.reject(error);
          continue;
        }
        this.fileSize += buf.length;
        this.inFlight = undefined;
        group.resolve();
        if (this.failing) {
          this.failing = false;
          this.hooks.onRecovered?.();
        }
        this.hooks.afterCommit?.(this.fileSize);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async cutBack(): Promise<void> {
    await this.fh.truncate(this.fileSize);
    await this.fh.datasync();
    this.damaged = false;
  }

  private async switchFile(rotation: Rotation): Promise<void> {
    this.rotation = undefined;
    let next: { fh: StateFileHandle; gen: number; path: string };
    try {
      // A torn tail left in a journal that is no longer the last would read as damage in the middle.
      if (this.damaged) await this.cutBack();
      next = await rotation.openNext();
    } catch (e) {
      rotation.reject(e);
      return;
    }
    const old = this.fh;
    this.fh = next.fh;
    this.filePath = next.path;
    this.fileGen = next.gen;
    this.fileSize = 0;
    rotation.onSwitched();
    rotation.resolve();
    await old.close().catch(() => undefined);
  }

  /**
   * Refuses the group in flight and every record queued behind it (they may
   * have been computed from the refused state): hands their undo data to the
   * hook at once and returns the groups, for the caller to reject.
   */
  private fail(error: StateWriteFailedError): Array<Group<U>> {
    const undo = this.pendingUndo();
    const groups = [this.inFlight, this.open].filter((g): g is Group<U> => g !== undefined);
    this.inFlight = undefined;
    this.open = undefined;
    this.failing = true;
    this.hooks.onWriteFailed?.(error, undo);
    return groups;
  }
}

/** One valid record read back from a journal. */
export interface JournalRecord {
  commit: number;
  ops: JournalOp[];
}

/** What reading a journal found. */
export interface JournalContents {
  /** The records to replay, in order. */
  records: JournalRecord[];
  /** Bytes of the file that hold `records` (where to truncate a torn tail). */
  validBytes: number;
  /** The highest commit number seen in the kept records, -1 when none. */
  lastCommit: number;
  /** A torn last commit: bytes and records dropped. */
  torn: { bytes: number; records: number } | undefined;
  /** Damage followed by valid records: where, and the valid records after it (skipped, not in `records`). */
  corrupt: { offset: number; record: number; validAfter: number; skipped: JournalRecord[] } | undefined;
}

function decode(value: unknown): JournalRecord | undefined {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'number' || !Array.isArray(value[1])) return undefined;
  const ops = value[1] as unknown[];
  for (const op of ops) {
    if (!Array.isArray(op) || typeof op[1] !== 'string') return undefined;
    if (!((op[0] === 's' && op.length === 3) || (op[0] === 'd' && op.length === 2))) return undefined;
  }
  return { commit: value[0], ops: ops as JournalOp[] };
}

/**
 * Parses a journal. A damaged or incomplete record at the end, or damage
 * confined to the last group commit (which was never acknowledged: its fsync
 * did not finish), is a torn tail. Damage followed by records of other
 * commits is corruption, reported in `corrupt`.
 */
export function readJournal(buf: Buffer): JournalContents {
  const lines: Array<{ start: number; next: number; record: JournalRecord | undefined }> = [];
  for (const line of readRecords(buf)) lines.push({ start: line.start, next: line.next, record: line.valid ? decode(line.value) : undefined });
  const firstBad = lines.findIndex((l) => l.record === undefined);
  const keep = (n: number): JournalRecord[] => lines.slice(0, n).map((l) => l.record!);
  const lastCommitOf = (records: JournalRecord[]) => (records.length > 0 ? records[records.length - 1]!.commit : -1);
  if (firstBad === -1) {
    const records = keep(lines.length);
    return { records, validBytes: buf.length, lastCommit: lastCommitOf(records), torn: undefined, corrupt: undefined };
  }
  const after = lines.slice(firstBad + 1).filter((l) => l.record !== undefined);
  const before = keep(firstBad);
  const lastBefore = lastCommitOf(before);
  let cut = firstBad;
  if (after.length > 0) {
    const commit = after[0]!.record!.commit;
    const sameCommit = after.every((l) => l.record!.commit === commit);
    if (!sameCommit || (commit !== lastBefore && commit !== lastBefore + 1)) {
      return {
        records: before,
        validBytes: lines[firstBad]!.start,
        lastCommit: after.reduce((max, l) => Math.max(max, l.record!.commit), lastBefore),
        torn: undefined,
        corrupt: { offset: lines[firstBad]!.start, record: firstBad, validAfter: after.length, skipped: after.map((l) => l.record!) },
      };
    }
    // The damage lies inside the last group commit: drop that whole commit.
    while (cut > 0 && lines[cut - 1]!.record!.commit === commit) cut--;
  }
  const records = keep(cut);
  const validBytes = cut < lines.length ? lines[cut]!.start : buf.length;
  return {
    records,
    validBytes,
    lastCommit: lastCommitOf(records),
    torn: { bytes: buf.length - validBytes, records: lines.length - cut },
    corrupt: undefined,
  };
}
