import { join } from 'node:path';

const GEN_DIGITS = 12;
const SNAPSHOT = /^snapshot-(\d+)\.json$/;
const JOURNAL = /^journal-(\d+)\.log$/;
const TEMP = /\.tmp-\d+$|\.tmp$/;

/**
 * The files of one state directory. A snapshot of generation G holds the
 * state made by every journal of a generation below G; recovery loads the
 * newest snapshot and replays the journals of generation G and above.
 */
export const stateFiles = {
  snapshot: (dir: string, gen: number) => join(dir, `snapshot-${String(gen).padStart(GEN_DIGITS, '0')}.json`),
  journal: (dir: string, gen: number) => join(dir, `journal-${String(gen).padStart(GEN_DIGITS, '0')}.log`),
  /** Sorts a directory listing into snapshot and journal generations (ascending) and leftover temporary files. */
  classify(names: readonly string[]): { snapshots: number[]; journals: number[]; temporary: string[] } {
    const snapshots: number[] = [];
    const journals: number[] = [];
    const temporary: string[] = [];
    for (const name of names) {
      const s = SNAPSHOT.exec(name);
      const j = JOURNAL.exec(name);
      if (s) snapshots.push(Number(s[1]));
      else if (j) journals.push(Number(j[1]));
      else if (TEMP.test(name) && !name.startsWith('LOCK')) temporary.push(name);
    }
    const asc = (a: number, b: number) => a - b;
    return { snapshots: snapshots.sort(asc), journals: journals.sort(asc), temporary };
  },
  /** A name for a damaged file kept aside. */
  asideName: (path: string, now: number) => `${path}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`,
};
