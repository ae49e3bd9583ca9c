/**
 * Runs async sections one at a time per key, in arrival order; sections of
 * different keys run at the same time. The registry changes one agent's record
 * by reading it, changing it and writing it back, with awaits in between: two
 * such changes at once (a rating and a heartbeat) would otherwise both start
 * from the same record and the later write would drop the earlier change.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * @param outer wraps every section of `run` once it holds the key here: a
   * lock that spans processes (a shared store's lockAgent), taken after the
   * in-process one so that a process waits on it with one section per key.
   */
  constructor(private readonly outer?: <T>(key: string, section: () => Promise<T>) => Promise<T>) {}
  /** Set while an exclusive section waits or runs: new sections wait for it. */
  private gate: Promise<void> | undefined;

  /** Keys with a section running or waiting. */
  get size(): number {
    return this.tails.size;
  }

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    const previous = this.tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => done) : done;
    this.tails.set(key, tail);
    try {
      if (previous) await previous;
      return await (this.outer ? this.outer(key, section) : section());
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Runs a section alone: after every section already started (of any key)
   * has finished, and before any that arrives meanwhile. For work on many
   * keys at once, such as expiring every lease that has ended.
   */
  async exclusive<T>(section: () => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    try {
      await Promise.all(this.tails.values());
      return await section();
    } finally {
      this.gate = undefined;
      open();
    }
  }
}
