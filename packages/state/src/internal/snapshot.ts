import type { JsonValue } from '../stateStore';
import { writeAll, writeFileAtomic } from './atomicWrite';
import { deepFreeze } from './frozenJson';
import { encodeRecord, readRecords } from './records';
import type { StateFs } from './stateFs';

const FORMAT = 'sov-state-snapshot';
const VERSION = 1;
const CHUNK_CHARS = 1 << 20;

interface SnapshotHeader {
  format: typeof FORMAT;
  version: number;
  gen: number;
  entries: number;
}

/**
 * Writes a snapshot atomically: a header record, then one record per entry.
 * The entries are read as the write goes, in chunks; they must not change
 * meanwhile (stored values are frozen, so a copied entry list is safe).
 * Resolves to the file's size in bytes.
 */
export async function writeSnapshot(
  fs: StateFs,
  path: string,
  gen: number,
  entries: ReadonlyArray<readonly [string, JsonValue]>,
  consequence: string,
): Promise<number> {
  let bytes = 0;
  await writeFileAtomic(fs, path, async (fh) => {
    const header: SnapshotHeader = { format: FORMAT, version: VERSION, gen, entries: entries.length };
    let chunk = encodeRecord(JSON.stringify(header));
    for (const [key, value] of entries) {
      chunk += encodeRecord(`[${JSON.stringify(key)},${JSON.stringify(value)}]`);
      if (chunk.length >= CHUNK_CHARS) {
        const buf = Buffer.from(chunk, 'utf8');
        bytes += buf.length;
        await writeAll(fh, buf);
        chunk = '';
      }
    }
    const buf = Buffer.from(chunk, 'utf8');
    bytes += buf.length;
    await writeAll(fh, buf);
  }, consequence);
  return bytes;
}

/** What reading a snapshot found. */
export interface SnapshotContents {
  entries: Map<string, JsonValue>;
  /** Size of the file in bytes. */
  bytes: number;
  /** Why the file is damaged, or undefined when it is whole. */
  damage: string | undefined;
}

function isHeader(value: unknown): value is SnapshotHeader {
  const h = value as Partial<SnapshotHeader> | null;
  return typeof h === 'object' && h !== null && h.format === FORMAT && typeof h.entries === 'number' && typeof h.gen === 'number';
}

/**
 * Reads a snapshot, keeping every entry whose record is intact. A damaged
 * file (bad header, bad or torn records, a count that does not match the
 * header) still yields what survives, with `damage` saying what was wrong.
 */
export async function readSnapshot(fs: StateFs, path: string, expectedGen: number): Promise<SnapshotContents> {
  const buf = await fs.readFile(path);
  const entries = new Map<string, JsonValue>();
  const problems: string[] = [];
  let header: SnapshotHeader | undefined;
  let bad = 0;
  let first = true;
  for (const line of readRecords(buf)) {
    if (first) {
      first = false;
      if (line.valid && isHeader(line.value)) {
        header = line.value;
        if (header.version !== VERSION) problems.push(`unknown version ${header.version}`);
        if (header.gen !== expectedGen) problems.push(`header says generation ${header.gen}, file name says ${expectedGen}`);
        continue;
      }
      problems.push('header record is damaged');
    }
    const v = line.value;
    if (line.valid && Array.isArray(v) && v.length === 2 && typeof v[0] === 'string') {
      entries.set(v[0], deepFreeze(v[1]));
    } else {
      bad++;
    }
  }
  if (first) problems.push('file is empty');
  if (bad > 0) problems.push(`${bad} damaged record${bad === 1 ? '' : 's'}`);
  if (header && header.entries !== entries.size) problems.push(`header counts ${header.entries} entries, ${entries.size} readable`);
  return { entries, bytes: buf.length, damage: problems.length > 0 ? problems.join('; ') : undefined };
}
