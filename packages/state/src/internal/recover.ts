import { join } from 'node:path';
import type { Clock, Logger } from '@sov/core';
import { StateCorruptError } from '../errors/stateCorruptError';
import type { RecoveryReport } from '../fileStateStore';
import type { JsonValue } from '../stateStore';
import { deepFreeze } from './frozenJson';
import { readJournal, type JournalRecord } from './journal';
import { readSnapshot } from './snapshot';
import type { StateFs } from './stateFs';
import { stateFiles } from './stateFiles';

/** The result of recovering a state directory. */
export interface Recovered {
  report: RecoveryReport;
  /** The journal to go on appending to, if any. */
  lastJournal: { gen: number; path: string; size: number; nextCommit: number } | undefined;
  /** Size of the snapshot loaded, 0 when none. */
  snapshotBytes: number;
  /** The highest generation of any file in the directory. */
  maxGen: number;
  /** Whether a fresh snapshot should be written at once (damage was repaired, or a journal must be folded). */
  needsSnapshot: boolean;
  /** Files of older generations and temporary files, to remove once the store is up. */
  leftovers: string[];
}

function replay(map: Map<string, JsonValue>, records: readonly JournalRecord[]): void {
  for (const { ops } of records) {
    for (const op of ops) {
      if (op[0] === 's') map.set(op[1], deepFreeze(op[2]));
      else map.delete(op[1]);
    }
  }
}

/**
 * Rebuilds the state of `dir` into `map`: loads the newest snapshot, replays
 * the journals after it, drops a torn last commit. A damaged snapshot is kept
 * aside and what survives of it is used; a damaged journal record followed by
 * valid ones is a StateCorruptError unless `repair` is set.
 */
export async function recover(
  dir: string,
  map: Map<string, JsonValue>,
  options: { repair: boolean; logger: Logger; clock: Clock; fs: StateFs },
): Promise<Recovered> {
  const { logger, clock, fs } = options;
  const t0 = clock.now();
  const files = stateFiles.classify(await fs.readdir(dir));
  const report: RecoveryReport = {
    snapshotGen: undefined,
    snapshotEntries: 0,
    journalFiles: 0,
    journalRecords: 0,
    tornBytes: 0,
    damage: [],
    keptAside: [],
    keys: 0,
    durationMs: 0,
  };
  const leftovers = files.temporary.map((n) => join(dir, n));
  let needsSnapshot = false;
  let snapshotBytes = 0;
  const maxGen = Math.max(0, ...files.snapshots, ...files.journals);

  const snapshotGen = files.snapshots[files.snapshots.length - 1];
  if (snapshotGen !== undefined) {
    const path = stateFiles.snapshot(dir, snapshotGen);
    const contents = await readSnapshot(fs, path, snapshotGen);
    for (const [k, v] of contents.entries) map.set(k, v);
    report.snapshotGen = snapshotGen;
    report.snapshotEntries = contents.entries.size;
    snapshotBytes = contents.bytes;
    if (contents.damage) {
      const aside = stateFiles.asideName(path, clock.now());
      await fs.rename(path, aside);
      report.keptAside.push(aside);
      report.damage.push(`snapshot ${path}: ${contents.damage}; ${contents.entries.size} entries recovered, damaged file kept as ${aside}`);
      logger.error('state snapshot is damaged: kept it aside and rebuilt the state from the records that survive', {
        path,
        keptAs: aside,
        damage: contents.damage,
        recoveredEntries: contents.entries.size,
      });
      needsSnapshot = true;
    }
    for (const g of files.snapshots) if (g < snapshotGen) leftovers.push(stateFiles.snapshot(dir, g));
    for (const g of files.journals) if (g < snapshotGen) leftovers.push(stateFiles.journal(dir, g));
  } else if (files.journals.length > 0 && files.journals[0]! > 1) {
    const missing = stateFiles.snapshot(dir, files.journals[0]!);
    report.damage.push(`snapshot ${missing} is missing; state rebuilt from the journals alone`);
    logger.error('state snapshot is missing: rebuilt the state from the journals alone; writes folded into it are lost', {
      path: missing,
    });
    needsSnapshot = true;
  }

  const journals = files.journals.filter((g) => snapshotGen === undefined || g >= snapshotGen);
  let lastJournal: Recovered['lastJournal'];
  for (let i = 0; i < journals.length; i++) {
    const gen = journals[i]!;
    const path = stateFiles.journal(dir, gen);
    const isLast = i === journals.length - 1;
    const contents = readJournal(await fs.readFile(path));
    const damage =
      contents.corrupt ??
      (contents.torn && !isLast ? { offset: contents.validBytes, record: contents.records.length, validAfter: 0, skipped: [] } : undefined);
    if (damage) {
      const what = `journal ${path} has a damaged record (record ${damage.record + 1}, byte ${damage.offset})${
        damage.validAfter > 0 ? ` followed by ${damage.validAfter} valid records` : ' and a later journal exists'
      }`;
      if (!options.repair) {
        throw new StateCorruptError(
          path,
          `State is corrupt: ${what}. Nothing was changed; open with { repair: true } to skip the damaged record (the file is kept aside), or restore the file from a backup`,
          { offset: damage.offset },
        );
      }
      const aside = stateFiles.asideName(path, clock.now());
      await fs.copyFile(path, aside);
      report.keptAside.push(aside);
      report.damage.push(`${what}; repaired by skipping it, original kept as ${aside}`);
      logger.error('state journal is damaged: skipped the damaged record (repair)', { path, offset: damage.offset, keptAs: aside });
      replay(map, contents.records);
      replay(map, damage.skipped);
      report.journalRecords += contents.records.length + damage.skipped.length;
      needsSnapshot = true;
    } else {
      replay(map, contents.records);
      report.journalRecords += contents.records.length;
      if (contents.torn) {
        const fh = await fs.open(path, 'r+');
        try {
          await fh.truncate(contents.validBytes);
          await fh.datasync();
        } finally {
          await fh.close();
        }
        report.tornBytes += contents.torn.bytes;
        logger.warn('dropped a torn journal tail (writes that were never acknowledged)', {
          path,
          bytes: contents.torn.bytes,
          records: contents.torn.records,
        });
      }
    }
    report.journalFiles++;
    if (isLast) lastJournal = { gen, path, size: contents.validBytes, nextCommit: contents.lastCommit + 1 };
  }
  report.keys = map.size;
  report.durationMs = clock.now() - t0;
  return { report, lastJournal, maxGen, snapshotBytes, needsSnapshot, leftovers };
}
