/**
 * Runs async sections one at a time per key, in arrival order; sections of
 * different keys run at the same time. The registry changes one agent's record
 * by reading it, changing it and writing it back, with awaits in between: two
 * such changes at once (a rating and a heartbeat) would otherwise both start
 * from the same record and the later write would drop the earlier change.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Keys with a section running or waiting. */
  get size(): number {
    return this.tails.size;
  }

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => done) : done;
    this.tails.set(key, tail);
    try {
      if (previous) await previous;
      return await section();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
