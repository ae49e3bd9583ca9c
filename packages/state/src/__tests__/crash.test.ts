import { FileStateStore } from '../fileStateStore';
import { runFixture } from './childProcess';
import { useTempDirs } from './tempDir';

const tempDir = useTempDirs();

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.SOV_STATE_CRASH_SEED ?? 20_240_611);
const ROUNDS = 20;
const BUDGET_MS = 45_000;

describe('crash safety (journal mode)', () => {
  it(`keeps every acknowledged write across ${ROUNDS} SIGKILLs at random moments (seed ${SEED})`, async () => {
    const dir = tempDir();
    const rand = random(SEED);
    const stored = new Set<string>();
    const gone = new Set<string>();
    let counter = 0;
    let totalAcks = 0;
    let rounds = 0;
    let torn = 0;
    const started = Date.now();
    for (let round = 0; round < ROUNDS && Date.now() - started < BUDGET_MS; round++) {
      rounds++;
      const child = runFixture('crashWriter.ts', [dir, String(round)]);
      // Most rounds are killed while writing; some while the child is still starting and recovering.
      const duringStartup = rand() < 0.2;
      if (!duringStartup) await child.waitForLine(/^ready$/);
      await new Promise((r) => setTimeout(r, Math.floor(rand() * (duringStartup ? 400 : 250))));
      await child.kill();
      const errors = child.lines.filter((l) => l.startsWith('error'));
      expect(errors).toEqual([]);
      for (const line of child.lines) {
        const [kind, value] = line.split(' ') as [string, string];
        if (kind === 'ack') stored.add(value);
        else if (kind === 'gone') gone.add(value);
        else if (kind === 'counter') counter = Math.max(counter, Number(value));
      }
      totalAcks += child.lines.length;

      const store = await FileStateStore.open({ dir });
      try {
        expect(store.recovery!.damage).toEqual([]);
        if (store.recovery!.tornBytes > 0) torn++;
        const missing: string[] = [];
        for (const key of stored) {
          const value = await store.get<{ key: string }>(key);
          if (value?.key !== key) missing.push(key);
        }
        expect({ round, missing: missing.slice(0, 10), missingCount: missing.length }).toEqual({ round, missing: [], missingCount: 0 });
        for (const key of gone) expect(await store.has(key)).toBe(false);
        expect(await store.get<number>('counter') ?? 0).toBeGreaterThanOrEqual(counter);
      } finally {
        await store.close();
      }
    }
    if (process.env.SOV_STATE_CRASH_STATS) console.log({ rounds, totalAcks, stored: stored.size, gone: gone.size, counter, torn });
    expect(rounds).toBeGreaterThanOrEqual(10);
    expect(totalAcks).toBeGreaterThan(100);
  }, 90_000);
});
