import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasErrorCode } from '@sov/core';
import { FileStateStore } from '../fileStateStore';
import { encodeRecord } from '../internal/records';
import { recordingLogger } from './recordingLogger';
import { useTempDirs } from './tempDir';

const tempDir = useTempDirs();

const files = (dir: string, pattern: RegExp) => readdirSync(dir).filter((n) => pattern.test(n));
const onlyFile = (dir: string, pattern: RegExp) => {
  const found = files(dir, pattern);
  expect(found).toHaveLength(1);
  return join(dir, found[0]!);
};

/** Writes `n` keys, each its own group commit, and closes. */
async function seed(dir: string, n: number, options: { checkpoint?: boolean } = {}): Promise<void> {
  const store = await FileStateStore.open({ dir });
  for (let i = 0; i < n; i++) await store.set(`k${i}`, { i });
  if (options.checkpoint) await store.checkpoint();
  await store.close();
}

describe('FileStateStore recovery', () => {
  it('drops a torn last record, keeps every acknowledged write and opens cleanly after', async () => {
    const dir = tempDir();
    await seed(dir, 5);
    const journal = onlyFile(dir, /^journal-\d+\.log$/);
    const whole = statSync(journal).size;
    appendFileSync(journal, '1a2b3c4d [5,[["s","torn",{"half":'); // a crash in the middle of an append
    const logger = recordingLogger();
    const store = await FileStateStore.open({ dir, logger });
    expect((await store.keys()).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(store.recovery).toMatchObject({ tornBytes: expect.any(Number), damage: [], journalRecords: 5 });
    expect(store.recovery!.tornBytes).toBeGreaterThan(0);
    expect(logger.messages('warn').join()).toMatch(/torn journal tail/);
    expect(statSync(journal).size).toBe(whole);
    await store.set('after', 1);
    await store.close();
    const again = await FileStateStore.open({ dir });
    expect(again.recovery).toMatchObject({ tornBytes: 0, damage: [] });
    expect(await again.get('after')).toBe(1);
    await again.close();
  });

  it('drops a last group commit that is damaged inside (never acknowledged), even with intact records after the damage', async () => {
    const dir = tempDir();
    await seed(dir, 3); // commits 0, 1, 2
    const journal = onlyFile(dir, /^journal-\d+\.log$/);
    const bad = encodeRecord('[3,[["s","x",1]]]').replace('"x"', '"y"'); // checksum no longer matches
    appendFileSync(journal, bad + encodeRecord('[3,[["s","z",1]]]'));
    const store = await FileStateStore.open({ dir });
    expect((await store.keys()).sort()).toEqual(['k0', 'k1', 'k2']);
    expect(store.recovery!.damage).toEqual([]);
    await store.close();
  });

  it('refuses a journal damaged in the middle with STATE_CORRUPT naming file and offset, and changes nothing', async () => {
    const dir = tempDir();
    await seed(dir, 4);
    const journal = onlyFile(dir, /^journal-\d+\.log$/);
    const text = readFileSync(journal, 'utf8');
    const damaged = text.replace('"k1"', '"kX"');
    writeFileSync(journal, damaged);
    const offset = Buffer.byteLength(text.slice(0, text.indexOf('\n') + 1));
    const error = await FileStateStore.open({ dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasErrorCode(error, 'STATE_CORRUPT')).toBe(true);
    expect((error as Error).message).toContain(journal);
    expect((error as Error).message).toContain(`byte ${offset}`);
    expect((error as Error).message).toContain('followed by 2 valid records');
    expect((error as { offset: number }).offset).toBe(offset);
    expect(readFileSync(journal, 'utf8')).toBe(damaged);
    // The failed open released its lock: a repair can follow at once.
    const logger = recordingLogger();
    const repaired = await FileStateStore.open({ dir, repair: true, logger });
    expect((await repaired.keys()).sort()).toEqual(['k0', 'k2', 'k3']);
    expect(repaired.recovery!.keptAside).toHaveLength(1);
    expect(readFileSync(repaired.recovery!.keptAside[0]!, 'utf8')).toBe(damaged);
    expect(logger.messages('error').join()).toMatch(/journal is damaged/);
    await repaired.close();
    // Repair folded the journal into a snapshot: the next open is clean without repair.
    const clean = await FileStateStore.open({ dir });
    expect(clean.recovery!.damage).toEqual([]);
    expect((await clean.keys()).sort()).toEqual(['k0', 'k2', 'k3']);
    await clean.close();
  });

  it('keeps a damaged snapshot aside, rebuilds from what survives plus the journal, and logs what happened', async () => {
    const dir = tempDir();
    await seed(dir, 50, { checkpoint: true });
    const store = await FileStateStore.open({ dir });
    await store.set('after-snapshot', true);
    await store.set('k7', 'rewritten after the snapshot');
    await store.close();
    const snapshot = onlyFile(dir, /^snapshot-\d+\.json$/);
    const original = readFileSync(snapshot, 'utf8');
    writeFileSync(snapshot, original.replace('{"i":3}', '{"i":8}').replace('{"i":7}', '{"i":9}'));

    const logger = recordingLogger();
    const reopened = await FileStateStore.open({ dir, logger });
    const keys = await reopened.keys();
    expect(keys).toHaveLength(50); // 50 seeded + after-snapshot, minus k3 (its record was damaged)
    expect(keys).not.toContain('k3');
    expect(await reopened.get('k7')).toBe('rewritten after the snapshot'); // the journal restores what it holds
    expect(await reopened.get('after-snapshot')).toBe(true);
    const report = reopened.recovery!;
    expect(report.damage).toHaveLength(1);
    expect(report.damage[0]).toMatch(/2 damaged records; header counts 50 entries, 48 readable/);
    expect(report.keptAside).toHaveLength(1);
    expect(report.keptAside[0]).toMatch(/snapshot-\d+\.json\.corrupt-\d{4}-\d\d-\d\dT/);
    expect(readFileSync(report.keptAside[0]!, 'utf8')).not.toBe(original);
    const error = logger.lines.find((l) => l.level === 'error');
    expect(error?.message).toMatch(/snapshot is damaged/);
    expect(error?.meta).toMatchObject({ path: snapshot, recoveredEntries: 48 });
    await reopened.close();

    const again = await FileStateStore.open({ dir });
    expect(again.recovery!.damage).toEqual([]);
    expect(await again.keys()).toHaveLength(50);
    await again.close();
  });

  it('does not start silently empty when the snapshot is unreadable garbage', async () => {
    const dir = tempDir();
    await seed(dir, 10, { checkpoint: true });
    const snapshot = onlyFile(dir, /^snapshot-\d+\.json$/);
    writeFileSync(snapshot, Buffer.from([0, 0, 0, 0, 0xff, 0xfe]));
    const logger = recordingLogger();
    const store = await FileStateStore.open({ dir, logger });
    expect(await store.keys()).toEqual([]);
    expect(store.recovery!.damage[0]).toMatch(/header record is damaged/);
    expect(logger.messages('error')).toHaveLength(1);
    expect(files(dir, /\.corrupt-/)).toHaveLength(1);
    await store.close();
  });

  it('says so when the snapshot the journals build on is missing', async () => {
    const dir = tempDir();
    await seed(dir, 3, { checkpoint: true });
    const store = await FileStateStore.open({ dir });
    await store.set('later', 1);
    await store.close();
    const snapshot = onlyFile(dir, /^snapshot-\d+\.json$/);
    const { rmSync } = await import('node:fs');
    rmSync(snapshot);
    const logger = recordingLogger();
    const reopened = await FileStateStore.open({ dir, logger });
    expect(await reopened.keys()).toEqual(['later']);
    expect(reopened.recovery!.damage[0]).toMatch(/missing/);
    expect(logger.messages('error').join()).toMatch(/snapshot is missing/);
    await reopened.close();
  });

  it('treats a damaged end of a journal that a later journal follows as corruption', async () => {
    const dir = tempDir();
    await seed(dir, 2);
    const journal = onlyFile(dir, /^journal-\d+\.log$/);
    const gen = Number(/journal-(\d+)/.exec(journal)![1]);
    appendFileSync(journal, '00000000 [2,[["s"');
    writeFileSync(join(dir, `journal-${String(gen + 1).padStart(12, '0')}.log`), encodeRecord('[0,[["s","next",1]]]'));
    await expect(FileStateStore.open({ dir })).rejects.toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringContaining('a later journal exists') });
  });

  it('folds the journal into a snapshot past compactAfterBytes and removes the old files', async () => {
    const dir = tempDir();
    const store = await FileStateStore.open({ dir, compactAfterBytes: 2048 });
    const seen: number[] = [];
    store.onCheckpoint((info) => seen.push(info.gen));
    for (let i = 0; i < 200; i++) await store.set(`k${i % 20}`, { i, pad: 'x'.repeat(40) });
    await store.flush();
    await store.checkpoint();
    expect(seen.length).toBeGreaterThan(1);
    expect(files(dir, /^snapshot-/)).toHaveLength(1);
    expect(files(dir, /^journal-/)).toHaveLength(1);
    await store.close();
    const reopened = await FileStateStore.open({ dir });
    expect(await reopened.keys()).toHaveLength(20);
    expect(await reopened.get('k19')).toEqual({ i: 199, pad: 'x'.repeat(40) });
    expect(reopened.recovery!.journalRecords).toBe(0);
    await reopened.close();
  });

  it('removes temporary files and older generations left by a crash', async () => {
    const dir = tempDir();
    await seed(dir, 3, { checkpoint: true });
    writeFileSync(join(dir, 'snapshot-000000000099.json.tmp-12345'), 'half a snapshot');
    writeFileSync(join(dir, 'journal-000000000000.log'), 'old generation');
    writeFileSync(join(dir, 'snapshot-000000000000.json'), 'old generation');
    const store = await FileStateStore.open({ dir });
    expect((await store.keys()).sort()).toEqual(['k0', 'k1', 'k2']);
    await store.close();
    expect(files(dir, /tmp|000000000000/)).toEqual([]);
  });
});

describe('FileStateStore checkpoint mode', () => {
  afterEach(() => jest.useRealTimers());

  it('writes a snapshot every checkpointIntervalMs, only when something changed, and at close', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const dir = tempDir();
    const store = await FileStateStore.open({ dir, durability: 'checkpoint', checkpointIntervalMs: 1000 });
    const seen: Array<{ reason: string; entries: number }> = [];
    let wrote: () => void = () => undefined;
    store.onCheckpoint((info) => {
      seen.push({ reason: info.reason, entries: info.entries });
      wrote();
    });
    const nextCheckpoint = () => new Promise<void>((resolve) => (wrote = resolve));

    await store.set('a', 1);
    expect(files(dir, /^snapshot-/)).toEqual([]); // in memory until the checkpoint
    let written = nextCheckpoint();
    await jest.advanceTimersByTimeAsync(1000);
    await written;
    expect(seen).toEqual([{ reason: 'interval', entries: 1 }]);

    await jest.advanceTimersByTimeAsync(3000); // nothing changed: no snapshot
    expect(seen).toHaveLength(1);

    await store.set('b', 2);
    written = nextCheckpoint();
    await jest.advanceTimersByTimeAsync(1000);
    await written;
    await store.set('c', 3);
    await store.close();
    expect(seen.map((s) => s.reason)).toEqual(['interval', 'interval', 'close']);
    expect(files(dir, /^snapshot-/)).toHaveLength(1);
    expect(files(dir, /^journal-/)).toEqual([]);
    jest.useRealTimers();
    const reopened = await FileStateStore.open({ dir, durability: 'checkpoint' });
    expect((await reopened.keys()).sort()).toEqual(['a', 'b', 'c']);
    await reopened.close();
  });

  it('folds a journal left by journal mode into a snapshot on open', async () => {
    const dir = tempDir();
    await seed(dir, 3);
    const store = await FileStateStore.open({ dir, durability: 'checkpoint' });
    expect(await store.keys()).toHaveLength(3);
    expect(files(dir, /^journal-/)).toEqual([]);
    expect(files(dir, /^snapshot-/)).toHaveLength(1);
    await store.close();
    const journalAgain = await FileStateStore.open({ dir });
    expect(await journalAgain.keys()).toHaveLength(3);
    await journalAgain.close();
  });
});
