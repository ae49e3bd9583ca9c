/**
 * A JSON value as a state store keeps it: null, a boolean, a finite number, a
 * string, or an array or plain object of these. Stored values are deeply
 * frozen, hence the readonly types.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Whether a store's writes reach their storage, as its `health()` reports it. */
export interface StateHealth {
  /** False while writes (or snapshots) fail. */
  ok: boolean;
  /** The durability mode when ok; otherwise what fails, on which file, how often and since when. */
  detail: string;
  /** The last failure, when not ok. */
  error?: Error;
}

/** One write of a {@link StateStore.batch}. */
export type StateOperation =
  | {
      readonly type: 'set';
      readonly key: string;
      /** Must be JSON-serialisable (see {@link StateStore.set}). */
      readonly value: unknown;
    }
  | { readonly type: 'delete'; readonly key: string };

/**
 * The port every state store implements: a durable map from string keys to
 * JSON values. Every method is async, so a store backed by a remote database
 * fits the same shape.
 *
 * Values are copied on the way in and deeply frozen: `get` hands back the
 * stored value itself (no copy), and mutating it throws a TypeError in strict
 * mode instead of silently changing stored state. To change a value, write a
 * new one (`update(key, (v) => ({ ...v, n: 1 }))`).
 *
 * A write is visible to reads as soon as it is made; its promise resolves once
 * the store's durability guarantee holds for it (for a journal file store:
 * on disk, fsynced).
 *
 * @example
 * await store.set('profile', { name: 'analyst', calls: 0 });
 * await store.update<{ name: string; calls: number }>('profile', (p) => ({ ...p!, calls: p!.calls + 1 }));
 * const profile = await store.get('profile');
 */
export interface StateStore {
  /** The value under `key`, or undefined. The value is frozen. */
  get<T = JsonValue>(key: string): Promise<T | undefined>;
  /** Whether `key` has a value. */
  has(key: string): Promise<boolean>;
  /** Every key, or every key starting with `prefix`; in no particular order. */
  keys(prefix?: string): Promise<string[]>;
  /** Every `[key, value]` pair, or those whose key starts with `prefix`; in no particular order. */
  entries<T = JsonValue>(prefix?: string): Promise<Array<[string, T]>>;
  /**
   * Stores a copy of `value` under `key`. The value must be plain JSON: null,
   * booleans, finite numbers, strings, arrays without holes and plain objects
   * (object properties whose value is undefined are left out, as in
   * `JSON.stringify`). Anything else (functions, undefined, NaN, BigInt, Date,
   * Map, class instances, cycles) is refused with NOT_SERIALIZABLE and
   * changes nothing; so is a value past the store's bounds (see
   * `StateLimits`: 64 levels deep, 16 MiB of JSON by default). When the
   * storage refuses the write (disk full), it rejects with STATE_WRITE_FAILED
   * and changes nothing either.
   */
  set(key: string, value: unknown): Promise<void>;
  /**
   * Replaces the value under `key` with `fn(current)` atomically: no other
   * write to the store can come between the read and the write. `fn` is
   * synchronous; when it throws, or returns a value that is not JSON, nothing
   * changes and the promise rejects. Resolves to the stored (frozen) value.
   */
  update<T = JsonValue>(key: string, fn: (current: T | undefined) => T): Promise<T>;
  /** Removes `key`; resolves to whether it had a value. */
  delete(key: string): Promise<boolean>;
  /**
   * Applies several writes all together or not at all: if one value is
   * refused, none is applied. Later operations on the same key win.
   */
  batch(operations: readonly StateOperation[]): Promise<void>;
  /** Resolves once every write made before the call is durable. */
  flush(): Promise<void>;
  /** Flushes and releases the store; every later call rejects with STATE_CLOSED. Safe to call twice. */
  close(): Promise<void>;
  /**
   * Whether writes reach the store's storage; a store that cannot fail (in
   * memory) may leave it out. A refused write rejects with
   * STATE_WRITE_FAILED; `health()` stays not ok until writes succeed again.
   */
  health?(): StateHealth;
}
