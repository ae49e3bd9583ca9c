import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileStateStore, type StateDurability } from '../fileStateStore';
import { MemoryStateStore } from '../memoryStateStore';
import { useTempDirs } from './tempDir';

const tempDir = useTempDirs();

/** Every file of a state directory, by name, with its bytes (the lock aside). */
const filesOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .filter((n) => !n.startsWith('LOCK'))
      .sort()
      .map((n) => [n, readFileSync(join(dir, n)).toString('base64')]),
  );

const deep = (depth: number) => {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

describe.each(['journal', 'checkpoint'] as const)('FileStateStore (%s): refused values leave the files as they were', (durability: StateDurability) => {
  it('a refused set, update and batch change neither the journal nor the snapshot, before and after a flush', async () => {
    const dir = tempDir();
    const store = await FileStateStore.open({ dir, durability, limits: { maxDepth: 8, maxValueBytes: 1024, maxBatchBytes: 4096 } });
    await store.set('a', { n: 1 });
    await store.flush();
    const before = filesOf(dir);
    const refusals = [
      store.set('deep', deep(9)),
      store.set('deep', deep(100_000)),
      store.update('a', () => deep(3_000)),
      store.set('wide', 'x'.repeat(1023)),
      store.batch([
        { type: 'set', key: 'a', value: 2 },
        { type: 'set', key: 'deep', value: deep(20) },
      ]),
      store.batch(Array.from({ length: 5 }, (_, i) => ({ type: 'set' as const, key: `p${i}`, value: 'y'.repeat(900) }))),
    ];
    for (const r of await Promise.allSettled(refusals)) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'NOT_SERIALIZABLE' } });
    await store.flush();
    expect(filesOf(dir)).toEqual(before);
    expect(await store.entries()).toEqual([['a', { n: 1 }]]);
    await store.set('deep', deep(8));
    await store.close();
    const again = await FileStateStore.open({ dir, durability });
    expect(again.limits).toEqual({ maxDepth: 64, maxValueBytes: 16 * 1024 * 1024, maxBatchBytes: 64 * 1024 * 1024 });
    expect((await again.entries()).sort()).toEqual([
      ['a', { n: 1 }],
      ['deep', deep(8)],
    ]);
    await again.close();
  });
});

describe('limits options', () => {
  it('refuses bounds that are not positive integers, naming the option', () => {
    expect(() => new MemoryStateStore({ limits: { maxDepth: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('/limits/maxDepth') }));
    expect(() => new FileStateStore({ dir: tempDir(), limits: { maxValueBytes: 1.5 } })).toThrow(expect.objectContaining({ message: expect.stringContaining('/limits/maxValueBytes') }));
  });
});
