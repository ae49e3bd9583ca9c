import { StateClosedError } from './errors/stateClosedError';
import { asError } from './internal/asError';
import { StateTable } from './internal/stateTable';
import { resolveStateLimits, type ResolvedStateLimits, type StateLimits } from './stateLimits';
import type { JsonValue, StateHealth, StateOperation, StateStore } from './stateStore';

/** Options of a MemoryStateStore. */
export interface MemoryStateStoreOptions {
  /**
   * Bounds every value is checked against, as in a FileStateStore: a value
   * past one is refused with NOT_SERIALIZABLE.
   * @default { maxDepth: 64, maxValueBytes: 16 MiB, maxBatchBytes: 64 MiB }
   */
  limits?: StateLimits;
}

/**
 * A StateStore that keeps everything in memory and persists nothing: for
 * tests, and for state that may be lost. Same semantics as the file store
 * (JSON checks and bounds, frozen values, atomic update and batch).
 *
 * @example
 * const store = new MemoryStateStore();
 * await store.set('greeting', 'hello');
 * await store.get('greeting'); // 'hello'
 */
export class MemoryStateStore implements StateStore {
  /** The bounds values are checked against (the defaults filled in). */
  readonly limits: ResolvedStateLimits;
  private readonly table: StateTable;
  private closed = false;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.limits = resolveStateLimits(options.limits, 'MemoryStateStore options');
    this.table = new StateTable(this.limits);
  }

  /** The value under `key`, or undefined. */
  get<T = JsonValue>(key: string): Promise<T | undefined> {
    return this.run(() => this.table.map.get(this.table.key(key)) as T | undefined);
  }

  /** Whether `key` has a value. */
  has(key: string): Promise<boolean> {
    return this.run(() => this.table.map.has(this.table.key(key)));
  }

  /** Every key, or those starting with `prefix`. */
  keys(prefix?: string): Promise<string[]> {
    return this.run(() => this.table.keys(prefix));
  }

  /** Every `[key, value]` pair, or those whose key starts with `prefix`. */
  entries<T = JsonValue>(prefix?: string): Promise<Array<[string, T]>> {
    return this.run(() => this.table.entries(prefix) as Array<[string, T]>);
  }

  /** Stores a frozen copy of `value` (refused with NOT_SERIALIZABLE when not JSON). */
  set(key: string, value: unknown): Promise<void> {
    return this.run(() => void this.table.apply(this.table.prepareSet(key, value)));
  }

  /** Replaces the value under `key` with `fn(current)`, atomically. */
  update<T = JsonValue>(key: string, fn: (current: T | undefined) => T): Promise<T> {
    return this.run(() => {
      const k = this.table.key(key);
      const op = this.table.prepareSet(k, fn(this.table.map.get(k) as T | undefined));
      this.table.apply(op);
      return (op as { value: JsonValue }).value as T;
    });
  }

  /** Removes `key`; resolves to whether it had a value. */
  delete(key: string): Promise<boolean> {
    return this.run(() => this.table.map.delete(this.table.key(key)));
  }

  /** Applies every operation, or none when one is refused. */
  batch(operations: readonly StateOperation[]): Promise<void> {
    return this.run(() => {
      for (const op of this.table.prepareBatch(operations)) this.table.apply(op);
    });
  }

  /** Nothing to flush: resolves at once. */
  flush(): Promise<void> {
    return this.run(() => undefined);
  }

  /** Always ok while open: memory does not refuse a write. */
  health(): StateHealth {
    return this.closed ? { ok: false, detail: 'closed' } : { ok: true, detail: 'memory' };
  }

  /** Closes the store; later calls reject with STATE_CLOSED. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  // Every call answers with a promise, a refusal included (the StateStore contract).
  private run<T>(fn: () => T): Promise<T> {
    try {
      if (this.closed) throw new StateClosedError('Memory state store is closed');
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(asError(e));
    }
  }
}
