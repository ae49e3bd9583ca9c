import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as realDelay } from 'node:timers/promises';
import { isStateWriteFailedError } from '../errors/stateWriteFailedError';
import { FileStateStore, type FileStateStoreOptions } from '../fileStateStore';
import { faultyFs, type FaultyFs } from './faultyFs';
import { recordingLogger } from './recordingLogger';
import { useTempDirs } from './tempDir';

const tempDir = useTempDirs();
const open: FileStateStore[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
  // Give a stray rejection the turn it needs to be reported.
  await new Promise((r) => setImmediate(r));
  expect(unhandled).toEqual([]);
});

async function start(options: Partial<FileStateStoreOptions> & { faults?: FaultyFs } = {}) {
  const faults = options.faults ?? faultyFs();
  const logger = recordingLogger();
  const dir = options.dir ?? tempDir();
  const store = await FileStateStore.open({ ...options, dir, fs: faults.fs, logger });
  open.push(store);
  return { store, faults, logger, dir };
}

async function reopen(store: FileStateStore, options: Partial<FileStateStoreOptions> = {}): Promise<FileStateStore> {
  await store.close();
  const next = await FileStateStore.open({ dir: store.directory, ...options });
  open.push(next);
  return next;
}

const sortedEntries = async (s: FileStateStore) => (await s.entries()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
const journalOf = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('journal-'));
const expectWriteFailed = (operation: string, errno: string): unknown =>
  expect.objectContaining({ code: 'STATE_WRITE_FAILED', operation: expect.stringContaining(operation), errno });

/**
 * Lets the store's background work (a compaction started after a commit, on
 * real files) get to `until`: polls on real time (Jest fakes the global
 * timers), bounded, asserting nothing about how long it takes.
 */
async function settle(until: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !until(); i++) await realDelay(1);
  // And whatever the store does right after (rescheduling, logging).
  for (let i = 0; i < 5; i++) await realDelay(1);
}

describe('journal writes on a failing disk', () => {
  it.each([
    ['a partial append (ENOSPC)', { call: 'write', code: 'ENOSPC', partial: true }, 'write', 'ENOSPC'],
    ['an fdatasync (EIO)', { call: 'datasync', code: 'EIO' }, 'fdatasync', 'EIO'],
  ] as const)(
    'refuses every write of the group commit hit by %s, rolls them back, and a reopen sees only acknowledged writes',
    async (_label, fault, operation, errno) => {
      const { store, faults, logger, dir } = await start();
      await store.set('kept', { v: 1 });
      await store.set('counter', 1);
      const before = await sortedEntries(store);
      const journal = join(dir, journalOf(dir)[0]!);
      const goodLength = readFileSync(journal).length;

      faults.inject({ ...fault, path: /journal-/ });
      // One group in flight, more queued behind it: all refused, none kept.
      const writes = [
        store.set('refused', 1),
        store.update<number>('counter', (n) => (n ?? 0) + 10),
        store.batch([
          { type: 'set', key: 'kept', value: 'overwritten' },
          { type: 'delete', key: 'counter' },
        ]),
        store.delete('kept'),
      ];
      const results = await Promise.allSettled(writes);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toEqual(expectWriteFailed(operation, errno));
        expect(isStateWriteFailedError((r as PromiseRejectedResult).reason)).toBe(true);
        expect(((r as PromiseRejectedResult).reason as Error).message).toContain(journal);
      }
      expect(await sortedEntries(store)).toEqual(before);
      expect(readFileSync(journal).length).toBe(goodLength); // cut back: no refused bytes in the file
      expect(store.health()).toMatchObject({ ok: false, detail: expect.stringContaining(errno) });
      expect(store.isOpen).toBe(true);
      expect(await store.get('kept')).toEqual({ v: 1 }); // reads go on

      // A second failure in the same episode: refused, not logged again.
      await expect(store.set('refused2', 2)).rejects.toEqual(expect.objectContaining({ code: 'STATE_WRITE_FAILED', errno }));
      expect(logger.messages('error')).toHaveLength(1);
      expect(logger.lines.find((l) => l.level === 'error')!.meta).toMatchObject({ errno, path: journal });

      // Space returns: writes succeed, the store is healthy again.
      faults.clear();
      await store.update<number>('counter', (n) => (n ?? 0) + 1);
      await store.set('after', true);
      expect(store.health()).toEqual({ ok: true, detail: 'journal' });
      expect(logger.messages('info')).toContain('state journal writes succeed again');
      const want = await sortedEntries(store);
      expect(want).toEqual([
        ['after', true],
        ['counter', 2],
        ['kept', { v: 1 }],
      ]);

      const again = await reopen(store);
      expect(again.recovery).toMatchObject({ damage: [], tornBytes: 0 });
      expect(await sortedEntries(again)).toEqual(want);
    },
  );

  it('when the cut-back fails too, refuses writes until it succeeds; a reopen drops the torn tail and sees no damage', async () => {
    const { store, faults, dir } = await start();
    await store.set('a', 1);
    faults.inject({ call: 'write', path: /journal-/, code: 'ENOSPC', partial: true, times: 1 });
    faults.inject({ call: 'truncate', path: /journal-/, code: 'EIO', times: 3 });
    await expect(store.set('b', 2)).rejects.toEqual(expectWriteFailed('write', 'ENOSPC'));
    // The journal still ends in the refused half-record, so the next write must not go after it.
    await expect(store.set('c', 3)).rejects.toEqual(expectWriteFailed('truncate', 'EIO'));
    expect(await store.has('c')).toBe(false);
    await store.set('d', 4); // the truncation succeeds at last, then the write
    expect(store.health().ok).toBe(true);
    const again = await reopen(store);
    expect(again.recovery).toMatchObject({ damage: [], tornBytes: 0 });
    expect(await sortedEntries(again)).toEqual([
      ['a', 1],
      ['d', 4],
    ]);
    expect(journalOf(dir)).toHaveLength(1);
  });

  it('a crash while the refused bytes cannot be cut off leaves a torn tail that the reopen drops, never damage in the middle', async () => {
    const { store, faults } = await start();
    await store.set('a', 1);
    faults.inject({ call: 'write', path: /journal-/, code: 'ENOSPC', partial: true });
    faults.inject({ call: 'truncate', path: /journal-/, code: 'EIO' });
    await expect(store.set('b', 2)).rejects.toEqual(expectWriteFailed('write', 'ENOSPC'));
    const again = await reopen(store); // close cannot cut back either: the tail stays
    expect(again.recovery!.damage).toEqual([]);
    expect(again.recovery!.tornBytes).toBeGreaterThan(0);
    expect(await sortedEntries(again)).toEqual([['a', 1]]);
  });

  it('a write that fails while a compaction switches journals is left out of the snapshot', async () => {
    const { store, faults } = await start({ compactAfterBytes: 1 << 30 });
    await store.set('a', 1);
    // 'x' goes out at once; 'b' waits behind it, so it is in memory (not yet durable) when the journals switch,
    // and then fails in the new journal.
    faults.inject({ call: 'write', path: /journal-000000000002/, code: 'ENOSPC', times: 1 });
    const acked = store.set('x', 1);
    const refused = store.set('b', 2);
    const compaction = store.checkpoint();
    await acked;
    await expect(refused).rejects.toEqual(expectWriteFailed('write', 'ENOSPC'));
    await compaction;
    expect(faults.fired).toEqual([['write', expect.stringContaining('journal-000000000002')]]);
    const again = await reopen(store);
    expect(await sortedEntries(again)).toEqual([
      ['a', 1],
      ['x', 1],
    ]);
  });
});

describe('snapshots on a failing disk', () => {
  it.each([
    ['rename (EXDEV)', { call: 'rename', path: /snapshot-\d+\.json$/, code: 'EXDEV' }, 'rename', 'EXDEV'],
    ['rename (EACCES)', { call: 'rename', path: /snapshot-\d+\.json$/, code: 'EACCES' }, 'rename', 'EACCES'],
    ['write (ENOSPC)', { call: 'write', path: /snapshot-.*\.tmp-/, code: 'ENOSPC' }, 'write', 'ENOSPC'],
    ['fsync (EIO)', { call: 'sync', path: /snapshot-.*\.tmp-/, code: 'EIO' }, 'fsync', 'EIO'],
  ] as const)(
    'journal mode: a compaction failing at %s leaves the journal growing, retries with backoff, and recovers',
    async (_label, fault, operation, errno) => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      const { store, faults, logger, dir } = await start({ compactAfterBytes: 256 });
      faults.inject(fault);
      const attempts = () => faults.fired.length;
      for (let i = 0; i < 20; i++) await store.set(`k${i}`, { i, pad: 'x'.repeat(40) });
      await settle(() => attempts() > 0 && store.health().ok === false);
      expect(attempts()).toBe(1);
      expect(store.health()).toMatchObject({ ok: false, detail: expect.stringContaining(errno) });
      expect(store.health().error).toEqual(expectWriteFailed(operation, errno));
      expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]); // no temporary file left behind

      // Writes and reads go on; commits past the threshold do not start attempts of their own.
      for (let i = 20; i < 60; i++) await store.set(`k${i}`, { i, pad: 'x'.repeat(40) });
      expect(await store.get('k59')).toEqual({ i: 59, pad: 'x'.repeat(40) });
      expect(attempts()).toBe(1);

      // Backoff: 1 s, then 2 s. The 2 s are counted from when the second failure was handled:
      // wait until its retry timer is armed again (as many timers pending as before), not just until it fired.
      const pending = jest.getTimerCount();
      await jest.advanceTimersByTimeAsync(1_000);
      await settle(() => attempts() === 2 && jest.getTimerCount() === pending);
      expect(attempts()).toBe(2);
      await jest.advanceTimersByTimeAsync(1_999);
      expect(attempts()).toBe(2);
      await jest.advanceTimersByTimeAsync(1);
      await settle(() => attempts() === 3);
      expect(attempts()).toBe(3);
      expect(logger.messages('error')).toEqual(['state compaction failed: the journal keeps growing; retrying with backoff']);

      faults.clear();
      const written = new Promise<void>((resolve) => store.onCheckpoint(() => resolve()));
      await jest.advanceTimersByTimeAsync(4_000);
      await written;
      expect(store.health()).toEqual({ ok: true, detail: 'journal' });
      expect(logger.messages('info')).toContain('state snapshots succeed again');
      jest.useRealTimers();

      const want = await sortedEntries(store);
      expect(want).toHaveLength(60);
      const again = await reopen(store);
      expect(again.recovery!.damage).toEqual([]);
      expect(await sortedEntries(again)).toEqual(want);
    },
  );

  it('journal mode: a compaction that cannot create its new journal (ENOSPC) is retried; writes go on in the old one', async () => {
    const { store, faults } = await start({ compactAfterBytes: 1 << 30 });
    await store.set('a', 1);
    faults.inject({ call: 'open', path: /journal-000000000002/, code: 'ENOSPC' });
    await expect(store.checkpoint()).rejects.toEqual(expectWriteFailed('journal rotation', 'ENOSPC'));
    await store.set('b', 2);
    faults.clear();
    await store.checkpoint();
    expect(store.health().ok).toBe(true);
    const again = await reopen(store);
    expect(await sortedEntries(again)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('checkpoint mode: a failed snapshot rejects flush() with STATE_WRITE_FAILED, keeps the state in memory and is written at the next interval', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { store, faults, logger } = await start({ durability: 'checkpoint', checkpointIntervalMs: 10_000 });
    await store.set('a', 1);
    faults.inject({ call: 'rename', path: /snapshot-\d+\.json$/, code: 'EBUSY' });
    await expect(store.flush()).rejects.toEqual(expectWriteFailed('rename', 'EBUSY'));
    expect(store.health()).toMatchObject({ ok: false, detail: expect.stringContaining('EBUSY') });
    await store.set('b', 2);
    expect(await store.get('a')).toBe(1);
    await jest.advanceTimersByTimeAsync(10_000);
    await settle(() => faults.fired.length === 2);
    expect(faults.fired).toHaveLength(2);
    expect(logger.messages('error')).toHaveLength(1);
    faults.clear();
    const written = new Promise<void>((resolve) => store.onCheckpoint(() => resolve()));
    await jest.advanceTimersByTimeAsync(10_000);
    await written;
    expect(store.health().ok).toBe(true);
    jest.useRealTimers();
    const again = await reopen(store, { durability: 'checkpoint' });
    expect(await sortedEntries(again)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('checkpoint mode: a close whose last snapshot fails rejects with STATE_WRITE_FAILED and still releases the directory', async () => {
    const { store, faults, dir } = await start({ durability: 'checkpoint' });
    await store.set('a', 1);
    faults.inject({ call: 'write', path: /snapshot-/, code: 'ENOSPC' });
    await expect(store.close()).rejects.toEqual(expectWriteFailed('write', 'ENOSPC'));
    const next = await FileStateStore.open({ dir, durability: 'checkpoint' });
    open.push(next);
    expect(await next.keys()).toEqual([]); // the write was only in memory, as checkpoint mode says
  });
});

describe('fileState health', () => {
  it('reports a failing disk and recovers (health() and detail)', async () => {
    const { store, faults } = await start();
    expect(store.health()).toEqual({ ok: true, detail: 'journal' });
    faults.inject({ call: 'datasync', path: /journal-/, code: 'ENOSPC', times: 1 });
    await expect(store.set('x', 1)).rejects.toEqual(expectWriteFailed('fdatasync', 'ENOSPC'));
    const h = store.health();
    expect(h.ok).toBe(false);
    expect(h.detail).toMatch(/fdatasync of .*journal-000000000001\.log failed .*ENOSPC.*1 failure since/);
    await store.set('x', 2);
    expect(store.health().ok).toBe(true);
  });
});

describe('a writer process on a disk that fills up', () => {
  it('stays alive through the faults (no unhandled rejection, no exit), refuses exactly the writes the disk refused, and recovers', async () => {
    const { runFixture } = await import('./childProcess');
    const dir = tempDir();
    const child = runFixture('faultyWriter.ts', [dir]);
    const code = await child.exited;
    expect({ code, stderr: child.stderr(), last: child.lines.slice(-3) }).toEqual({ code: 0, stderr: '', last: expect.arrayContaining(['done']) });
    expect(child.lines.filter((l) => /^(unhandled|uncaught|error)/.test(l))).toEqual([]);
    const acked = child.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
    const refused = child.lines.filter((l) => l.startsWith('refused ')).map((l) => l.split(' '));
    expect(refused.map((r) => r[2])).toEqual(Array.from({ length: 10 }, () => 'STATE_WRITE_FAILED'));
    expect(refused.map((r) => r[1]).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `full-${i}`).sort());
    expect(child.lines).toContain('checkpoint refused STATE_WRITE_FAILED');
    const health = child.lines.filter((l) => l.startsWith('health '));
    expect(health[0]).toMatch(/^health false .*ENOSPC/);
    expect(health[1]).toMatch(/^health false .*EXDEV/);
    expect(health[2]).toBe('health true journal');

    const store = await FileStateStore.open({ dir });
    open.push(store);
    expect(store.recovery).toMatchObject({ damage: [], tornBytes: 0 });
    expect((await store.keys()).sort()).toEqual([...acked].sort());
    expect(acked).toHaveLength(50);
  }, 30_000);
});
