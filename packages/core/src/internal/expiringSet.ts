import type { Clock } from '../clock';

/**
 * Keys remembered for a while (peers that take no sessions, endpoints that
 * do not speak sov-mux): each is forgotten `ttlMs` after it was added, and at
 * most `max` are held (past it, the oldest goes).
 */
export class ExpiringSet {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  has(key: string): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.until.delete(key);
    return false;
  }

  add(key: string): void {
    if (!this.until.has(key) && this.until.size >= this.max) this.until.delete(this.until.keys().next().value!);
    this.until.set(key, this.clock.now() + this.ttlMs);
  }
}
