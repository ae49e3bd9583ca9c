import { KeyedLock } from './keyedLock';

const tick = () => new Promise((r) => setImmediate(r));

/** Sections that write "<name> in" and "<name> out" to `log`, taking `ticks` turns of the event loop between. */
function recorder(log: string[], ticks = 1) {
  return (name: string) => async () => {
    log.push(`${name} in`);
    for (let i = 0; i < ticks; i++) await tick();
    log.push(`${name} out`);
    return name;
  };
}

describe('KeyedLock', () => {
  it('runs sections of one key one at a time, in arrival order', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const section = recorder(log, 2);
    const results = await Promise.all([lock.run('a', section('1')), lock.run('a', section('2')), lock.run('a', section('3'))]);
    expect(results).toEqual(['1', '2', '3']);
    expect(log).toEqual(['1 in', '1 out', '2 in', '2 out', '3 in', '3 out']);
    expect(lock.size).toBe(0);
  });

  it('runs sections of different keys at the same time', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const section = recorder(log);
    await Promise.all([lock.run('a', section('a')), lock.run('b', section('b'))]);
    expect(log).toEqual(['a in', 'b in', 'a out', 'b out']);
  });

  it('passes a failure to its caller only, and lets the next section run', async () => {
    const lock = new KeyedLock();
    const failing = lock.run('a', async () => {
      await tick();
      throw new Error('boom');
    });
    const next = lock.run('a', async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
    expect(lock.size).toBe(0);
  });

  it('runs an exclusive section after every section already started and before those that arrive meanwhile', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const section = recorder(log);
    const a = lock.run('a', section('a'));
    const b = lock.run('b', section('b'));
    const all = lock.exclusive(section('all'));
    const later = lock.run('a', section('later'));
    await Promise.all([a, b, all, later]);
    expect(log.indexOf('all in')).toBeGreaterThan(Math.max(log.indexOf('a out'), log.indexOf('b out')));
    expect(log.indexOf('later in')).toBeGreaterThan(log.indexOf('all out'));
    expect(lock.size).toBe(0);
  });

  it('runs each section inside the outer lock (a shared store\'s lockAgent), one at a time per key here first', async () => {
    const log: string[] = [];
    const inside = new Map<string, number>();
    let mostOfOneKey = 0;
    const lock = new KeyedLock(async (key, section) => {
      inside.set(key, (inside.get(key) ?? 0) + 1);
      mostOfOneKey = Math.max(mostOfOneKey, inside.get(key)!);
      log.push(`outer ${key}`);
      try {
        await new Promise((r) => setImmediate(r));
        return await section();
      } finally {
        inside.set(key, inside.get(key)! - 1);
      }
    });
    const results = await Promise.all([lock.run('a', async () => 1), lock.run('a', async () => 2), lock.run('b', async () => 3)]);
    expect(results).toEqual([1, 2, 3]);
    expect(log.sort()).toEqual(['outer a', 'outer a', 'outer b']);
    expect(mostOfOneKey).toBe(1);
    await expect(lock.run('a', () => Promise.reject(new Error('inner')))).rejects.toThrow('inner');
    expect(lock.size).toBe(0);
  });
});
