import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeOps, JournalWriter, readJournal } from './journal';
import { encodeRecord } from './records';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sov-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function writer(hooks = {}): Promise<{ writer: JournalWriter; path: string }> {
  const path = join(dir, 'journal.log');
  const fh = await open(path, 'a');
  return { writer: new JournalWriter({ fh, path, gen: 1, size: 0, nextCommit: 0 }, hooks), path };
}

const line = (commit: number, key: string) => encodeRecord(`[${commit},${encodeOps([{ type: 'set', key, value: 1 }])}]`);

describe('JournalWriter', () => {
  it('shares one fsync among writes that arrive while one is in flight (group commit)', async () => {
    const { writer: w, path } = await writer();
    await Promise.all(Array.from({ length: 64 }, (_, i) => w.append(encodeOps([{ type: 'set', key: `k${i}`, value: i }]))));
    await w.close();
    const { records } = readJournal(readFileSync(path));
    expect(records).toHaveLength(64);
    const commits = new Set(records.map((r) => r.commit));
    expect(commits.size).toBe(2); // the first write alone, then the 63 that queued behind its fsync
    expect(records.map((r) => r.ops[0]![1])).toEqual(Array.from({ length: 64 }, (_, i) => `k${i}`));
  });

  it('refuses the failed group and every write queued behind it with STATE_WRITE_FAILED, then takes writes again', async () => {
    let full = true;
    const written: Buffer[] = [];
    let truncatedTo: number | undefined;
    const flaky = {
      write: (buf: Buffer, offset: number, length: number) => {
        if (full) return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
        written.push(Buffer.from(buf.subarray(offset, offset + length)));
        return Promise.resolve({ bytesWritten: length });
      },
      datasync: () => Promise.resolve(),
      sync: () => Promise.resolve(),
      truncate: (n: number) => {
        truncatedTo = n;
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const failures: Array<{ error: Error; undo: string[] }> = [];
    let recovered = 0;
    const w = new JournalWriter<string>(
      { fh: flaky, path: '/state/journal.log', gen: 1, size: 10, nextCommit: 3 },
      { onWriteFailed: (error, undo) => failures.push({ error, undo }), onRecovered: () => recovered++ },
    );
    const first = w.append('[]', 'u1');
    const second = w.append('[]', 'u2');
    await expect(first).rejects.toMatchObject({
      code: 'STATE_WRITE_FAILED',
      operation: 'write',
      errno: 'ENOSPC',
      message: expect.stringContaining('write of /state/journal.log failed (ENOSPC'),
    });
    await expect(second).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    expect(failures.map((f) => f.undo)).toEqual([['u1', 'u2']]);
    expect(truncatedTo).toBe(10); // cut back to the last good length
    full = false;
    await w.append('[]', 'u3');
    expect(recovered).toBe(1);
    // The refused commit's number is reused: the journal has no gap where the refused record would be.
    expect(readJournal(Buffer.concat(written)).records.map((r) => r.commit)).toEqual([3]);
    await w.close();
  });
});

describe('readJournal', () => {
  it('reads a whole journal', () => {
    const c = readJournal(Buffer.from(line(0, 'a') + line(1, 'b')));
    expect(c).toMatchObject({ torn: undefined, corrupt: undefined, lastCommit: 1 });
    expect(c.records).toHaveLength(2);
  });

  it('drops an incomplete last line, even when its checksum would match', () => {
    const whole = line(0, 'a');
    const buf = Buffer.from(whole + line(1, 'b').slice(0, -1));
    expect(readJournal(buf)).toMatchObject({ validBytes: whole.length, torn: { records: 1 }, lastCommit: 0 });
  });

  it('drops the whole last commit when damage lies inside it', () => {
    const kept = line(0, 'a');
    const damaged = line(1, 'b').replace('"b"', '"c"');
    const buf = Buffer.from(kept + line(1, 'x') + damaged + line(1, 'y'));
    const c = readJournal(buf);
    expect(c.corrupt).toBeUndefined();
    expect(c.records.map((r) => r.ops[0]![1])).toEqual(['a']);
    expect(c.validBytes).toBe(kept.length);
  });

  it('reports damage followed by other commits as corruption', () => {
    const first = line(0, 'a');
    const buf = Buffer.from(first + line(1, 'b').replace('"b"', '"c"') + line(2, 'c') + line(3, 'd'));
    const c = readJournal(buf);
    expect(c.corrupt).toMatchObject({ offset: first.length, record: 1, validAfter: 2 });
    expect(c.records).toHaveLength(1);
  });
});
