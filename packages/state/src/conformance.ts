import assert from 'node:assert/strict';
import { isSovError, type SovErrorCode } from '@sov/core';
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_STATE_DEPTH, DEFAULT_MAX_VALUE_BYTES, type StateLimits } from './stateLimits';
import type { JsonValue, StateStore } from './stateStore';

/**
 * The test-runner functions the conformance suite needs. Jest and vitest
 * globals fit; declared here so that no runner's types leak into this
 * package's declarations.
 */
export interface ConformanceRunner {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: () => Promise<void>) => void;
  afterEach: (fn: () => Promise<void>) => void;
}

/** Options of {@link describeStateStoreConformance}. */
export interface StateStoreConformanceOptions<S extends StateStore> {
  /**
   * Closes `store` and opens a new store on the same data; enables the tests
   * that check what survives a reopen. @default none: those tests are skipped
   */
  reopen?(store: S): Promise<S>;
  /** The runner functions. @default the global describe / it / afterEach */
  runner?: ConformanceRunner;
  /**
   * The bounds the factory's stores were built with; the bound tests write
   * values just inside and just past each.
   * @default the package defaults: { maxDepth: 64, maxValueBytes: 16 MiB, maxBatchBytes: 64 MiB }
   */
  limits?: StateLimits;
}

/** A value `depth` levels deep (a scalar is depth 0), built without recursion; arrays, or objects under key `k`. */
function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { k: v };
  return v;
}

// Everything a store holds, in one comparable form (sorted by key).
async function contents(store: StateStore): Promise<Array<[string, unknown]>> {
  return (await store.entries()).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

async function rejectsWithCode(work: Promise<unknown>, code: SovErrorCode, ...mentions: string[]): Promise<void> {
  await assert.rejects(work, (e: unknown) => {
    assert.ok(isSovError(e), `expected a SovError with code ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    for (const m of mentions) assert.ok(e.message.includes(m), `expected the message to mention ${m}: ${e.message}`);
    return true;
  });
}

// Read when a suite is defined, never at import time.
function globalRunner(): ConformanceRunner {
  const g = globalThis as unknown as Record<string, unknown>;
  const { describe, it, afterEach } = g;
  if (typeof describe !== 'function' || typeof it !== 'function' || typeof afterEach !== 'function') {
    throw new TypeError('describeStateStoreConformance needs the global describe / it / afterEach of a test runner, or options.runner');
  }
  return { describe, it, afterEach } as ConformanceRunner;
}

const sorted = (xs: string[]) => [...xs].sort();

class NotPlain {
  x = 1;
}

/**
 * Defines the conformance tests of a StateStore with the test runner's
 * globals (or `options.runner`): every store, in this package or another,
 * must pass them. `factory` returns a new, open, empty store for each test;
 * stores are closed after each test.
 *
 * @example
 * // memoryStateStore.test.ts
 * describeStateStoreConformance('MemoryStateStore', () => new MemoryStateStore());
 */
export function describeStateStoreConformance<S extends StateStore>(
  name: string,
  factory: () => S | Promise<S>,
  options: StateStoreConformanceOptions<S> = {},
): void {
  const { describe, it, afterEach } = options.runner ?? globalRunner();
  const maxDepth = options.limits?.maxDepth ?? DEFAULT_MAX_STATE_DEPTH;
  const maxValueBytes = options.limits?.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const maxBatchBytes = options.limits?.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  const open: S[] = [];
  const make = async (): Promise<S> => {
    const store = await factory();
    open.push(store);
    return store;
  };
  const reopen = async (store: S): Promise<S> => {
    const next = await options.reopen!(store);
    open.push(next);
    return next;
  };

  describe(`${name} (StateStore conformance)`, () => {
    afterEach(async () => {
      const stores = open.splice(0);
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    });

    it('reads a missing key as undefined', async () => {
      const store = await make();
      assert.equal(await store.get('missing'), undefined);
      assert.equal(await store.has('missing'), false);
      assert.deepEqual(await store.keys(), []);
    });

    it('stores and reads back JSON values of every kind', async () => {
      const store = await make();
      const values: Record<string, unknown> = {
        null: null,
        true: true,
        zero: 0,
        float: -12.5e-7,
        big: Number.MAX_SAFE_INTEGER,
        empty: '',
        text: 'line\nbreak\ttab "quote" \\ \u2028\u2029 \u0000 日本語 🎉',
        array: [1, 'two', null, [3], { four: 4 }],
        object: { a: { b: { c: [true, false] } }, 'key with spaces': 1, '': 'empty key' },
      };
      for (const [k, v] of Object.entries(values)) await store.set(k, v);
      for (const [k, v] of Object.entries(values)) assert.deepEqual(await store.get(k), v, `value of ${k}`);
      assert.equal(await store.has('null'), true, 'a null value is a value');
    });

    it('overwrites a value', async () => {
      const store = await make();
      await store.set('k', { v: 1 });
      await store.set('k', [2]);
      assert.deepEqual(await store.get('k'), [2]);
    });

    it('accepts keys with any characters', async () => {
      const store = await make();
      const keys = ['a/b/c', '__proto__', 'constructor', 'with\nnewline', '日本', ' ', 'a'.repeat(1000)];
      for (const [i, k] of keys.entries()) await store.set(k, i);
      for (const [i, k] of keys.entries()) assert.equal(await store.get(k), i, `key ${JSON.stringify(k.slice(0, 20))}`);
      assert.deepEqual(sorted(await store.keys()), sorted(keys));
    });

    it('deletes a key and says whether it existed', async () => {
      const store = await make();
      await store.set('k', 1);
      assert.equal(await store.delete('k'), true);
      assert.equal(await store.delete('k'), false);
      assert.equal(await store.get('k'), undefined);
      assert.equal(await store.has('k'), false);
    });

    it('lists keys and entries, all or by prefix', async () => {
      const store = await make();
      await store.batch([
        { type: 'set', key: 'agent:1', value: { n: 1 } },
        { type: 'set', key: 'agent:2', value: { n: 2 } },
        { type: 'set', key: 'agentx', value: 'x' },
        { type: 'set', key: 'lease:1', value: 10 },
      ]);
      assert.deepEqual(sorted(await store.keys()), ['agent:1', 'agent:2', 'agentx', 'lease:1']);
      assert.deepEqual(sorted(await store.keys('agent:')), ['agent:1', 'agent:2']);
      assert.deepEqual(await store.keys('nothing'), []);
      const entries = (await store.entries('agent:')).sort((a, b) => a[0].localeCompare(b[0]));
      assert.deepEqual(entries, [
        ['agent:1', { n: 1 }],
        ['agent:2', { n: 2 }],
      ]);
      assert.equal((await store.entries()).length, 4);
    });

    it('updates a missing key from undefined and resolves to the new value', async () => {
      const store = await make();
      const seen: unknown[] = [];
      const result = await store.update<number>('counter', (n) => {
        seen.push(n);
        return (n ?? 0) + 1;
      });
      assert.deepEqual(seen, [undefined]);
      assert.equal(result, 1);
      assert.equal(await store.get('counter'), 1);
    });

    it('loses no increment under many concurrent update() calls', async () => {
      const store = await make();
      const n = 500;
      const results = await Promise.all(Array.from({ length: n }, () => store.update<number>('counter', (v) => (v ?? 0) + 1)));
      assert.equal(await store.get('counter'), n);
      assert.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1));
    });

    it('interleaves concurrent updates of several keys with sets and keeps each exact', async () => {
      const store = await make();
      const work: Array<Promise<unknown>> = [];
      for (let i = 0; i < 300; i++) {
        work.push(store.update<number>(`c${i % 3}`, (v) => (v ?? 0) + 1));
        work.push(store.set(`other${i}`, i));
        work.push(store.update<{ list: number[] }>('list', (v) => ({ list: [...(v?.list ?? []), i] })));
      }
      await Promise.all(work);
      assert.deepEqual([await store.get('c0'), await store.get('c1'), await store.get('c2')], [100, 100, 100]);
      assert.deepEqual(await store.get('list'), { list: Array.from({ length: 300 }, (_, i) => i) });
    });

    it('changes nothing when the update function throws', async () => {
      const store = await make();
      await store.set('k', 1);
      await assert.rejects(
        store.update('k', () => {
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.get('k'), 1);
    });

    it('refuses an update whose result is not JSON, changing nothing', async () => {
      const store = await make();
      await store.set('k', 1);
      await rejectsWithCode(store.update<unknown>('k', () => () => 1), 'NOT_SERIALIZABLE', '"k"');
      await rejectsWithCode(store.update<unknown>('k', () => Promise.resolve(2)), 'NOT_SERIALIZABLE', 'Promise');
      assert.equal(await store.get('k'), 1);
    });

    it('refuses values that are not JSON at set, naming the key and the path, and stores nothing', async () => {
      const store = await make();
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
      const cases: Array<[string, unknown, string]> = [
        ['undefined', undefined, '/'],
        ['function', () => 1, '/'],
        ['symbol', Symbol('s'), '/'],
        ['bigint', BigInt(1), '/'],
        ['nan', Number.NaN, '/'],
        ['infinity', { n: Number.POSITIVE_INFINITY }, '/n'],
        ['date', { when: new Date(0) }, '/when'],
        ['map', new Map([[1, 2]]), '/'],
        ['set', { deep: [{ s: new Set([1]) }] }, '/deep/0/s'],
        ['class', new NotPlain(), '/'],
        ['circular', circular, '/self'],
        ['undefined in array', [1, undefined], '/1'],
        ['sparse array', sparse, '/1'],
        ['regexp', /x/, '/'],
        ['buffer', new Uint8Array(2), '/'],
        ['slash in path', { 'a/b': { '~': () => 1 } }, '/a~1b/~0'],
      ];
      for (const [label, value, path] of cases) {
        await rejectsWithCode(store.set(`bad-${label}`, value), 'NOT_SERIALIZABLE', `"bad-${label}"`, path);
        assert.equal(await store.has(`bad-${label}`), false, `${label} was not stored`);
      }
      assert.deepEqual(await store.keys(), []);
    });

    it('leaves out object properties whose value is undefined, as JSON does', async () => {
      const store = await make();
      await store.set('k', { a: 1, b: undefined });
      assert.deepEqual(await store.get('k'), { a: 1 });
      assert.equal(Object.prototype.hasOwnProperty.call(await store.get('k'), 'b'), false);
    });

    it('keeps a copy: changing the written object later does not change the stored value', async () => {
      const store = await make();
      const value = { list: [1, 2], nested: { n: 1 } };
      await store.set('k', value);
      value.list.push(3);
      value.nested.n = 99;
      assert.deepEqual(await store.get('k'), { list: [1, 2], nested: { n: 1 } });
    });

    it('hands out frozen values: mutating one throws and changes nothing', async () => {
      const store = await make();
      await store.set('k', { list: [1], nested: { n: 1 } });
      const got = (await store.get('k')) as { list: number[]; nested: { n: number } };
      assert.ok(Object.isFrozen(got) && Object.isFrozen(got.list) && Object.isFrozen(got.nested));
      assert.throws(() => got.list.push(2), TypeError);
      assert.throws(() => {
        got.nested.n = 2;
      }, TypeError);
      assert.deepEqual(await store.get('k'), { list: [1], nested: { n: 1 } });
      const updated = await store.update<{ n: number }>('u', () => ({ n: 1 }));
      assert.ok(Object.isFrozen(updated));
    });

    it('applies a batch all together, later operations on a key winning', async () => {
      const store = await make();
      await store.set('gone', 1);
      await store.batch([
        { type: 'set', key: 'a', value: 1 },
        { type: 'set', key: 'b', value: { x: [1] } },
        { type: 'delete', key: 'gone' },
        { type: 'set', key: 'a', value: 2 },
        { type: 'set', key: 'c', value: 3 },
        { type: 'delete', key: 'c' },
      ]);
      assert.deepEqual(sorted(await store.keys()), ['a', 'b']);
      assert.equal(await store.get('a'), 2);
      assert.deepEqual(await store.get('b'), { x: [1] });
      await store.batch([]);
    });

    it('applies nothing of a batch with one value that is not JSON', async () => {
      const store = await make();
      await store.set('keep', 'old');
      await rejectsWithCode(
        store.batch([
          { type: 'set', key: 'keep', value: 'new' },
          { type: 'delete', key: 'keep' },
          { type: 'set', key: 'bad', value: { f: () => 1 } },
          { type: 'set', key: 'fresh', value: 1 },
        ]),
        'NOT_SERIALIZABLE',
        '"bad"',
        '/f',
      );
      assert.equal(await store.get('keep'), 'old');
      assert.deepEqual(await store.keys(), ['keep']);
    });

    it('refuses keys that are not non-empty strings', async () => {
      const store = await make();
      await rejectsWithCode(store.set('', 1), 'INVALID_INPUT');
      await rejectsWithCode(store.set(42 as unknown as string, 1), 'INVALID_INPUT');
      await rejectsWithCode(store.get(undefined as unknown as string), 'INVALID_INPUT');
      await rejectsWithCode(store.batch([{ type: 'set', key: 'ok', value: 1 }, { type: 'delete', key: '' }]), 'INVALID_INPUT');
      assert.equal(await store.has('ok'), false);
    });

    it('refuses values nested past the depth bound (set, update, batch), naming the key and the path, and keeps nothing', async () => {
      let store = await make();
      await store.set('base', { kept: [1, 2] });
      const expected = new Map<string, unknown>([['base', { kept: [1, 2] }]]);
      const depths = [maxDepth - 1, maxDepth, maxDepth + 1, maxDepth + 2, 3_000, 100_000];
      for (const kind of ['array', 'object'] as const) {
        for (const depth of depths) {
          const value = nested(depth, kind);
          const key = `deep-${kind}-${depth}`;
          if (depth <= maxDepth) {
            await store.set(key, value);
            expected.set(key, value);
            continue;
          }
          const before = await contents(store);
          // The pointer of the first container past the bound: `maxDepth` steps down from the root.
          const path = `/${Array.from({ length: maxDepth }, () => (kind === 'array' ? '0' : 'k')).join('/')}`;
          await rejectsWithCode(store.set(key, value), 'NOT_SERIALIZABLE', `"${key}"`, path, 'deeper');
          await rejectsWithCode(store.update(key, () => value), 'NOT_SERIALIZABLE', `"${key}"`, 'deeper');
          await rejectsWithCode(store.update('base', () => ({ wrapped: value })), 'NOT_SERIALIZABLE', '"base"', 'deeper');
          await rejectsWithCode(
            store.batch([
              { type: 'set', key: 'base', value: 'replaced' },
              { type: 'set', key, value },
            ]),
            'NOT_SERIALIZABLE',
            `"${key}"`,
            'deeper',
          );
          assert.deepEqual(await contents(store), before, `a refused value of depth ${depth} changed nothing`);
        }
      }
      await store.set('after', 'written');
      expected.set('after', 'written');
      const want = [...expected].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      assert.deepEqual(await contents(store), want);
      if (options.reopen) {
        store = await reopen(store);
        assert.deepEqual(await contents(store), want, 'the same state after a reopen');
        await store.set('after reopen', 1);
      }
    });

    it('refuses values and writes past the size bounds (bytes of JSON, not characters), keeping nothing', async () => {
      let store = await make();
      await store.set('base', 'old');
      const before = await contents(store);
      // A string is its length plus two quotes as JSON.
      const atBound = 'x'.repeat(maxValueBytes - 2);
      const pastBound = 'x'.repeat(maxValueBytes - 1);
      await rejectsWithCode(store.set('wide', pastBound), 'NOT_SERIALIZABLE', '"wide"', 'maxValueBytes');
      await rejectsWithCode(store.update('base', () => ({ s: pastBound })), 'NOT_SERIALIZABLE', '"base"', 'maxValueBytes');
      // Three bytes of UTF-8 each: within the bound in characters, past it in bytes.
      await rejectsWithCode(store.set('euros', '€'.repeat(Math.ceil(maxValueBytes / 3))), 'NOT_SERIALIZABLE', '"euros"', 'maxValueBytes');
      // Wide, not deep: many small items.
      const items = Math.ceil(maxValueBytes / 2) + 1;
      await rejectsWithCode(store.set('many', new Array<number>(items).fill(1)), 'NOT_SERIALIZABLE', '"many"', 'maxValueBytes');
      const perValue = Math.min(maxValueBytes, maxBatchBytes) - 64;
      const chunk = 'y'.repeat(perValue - 2);
      const count = Math.floor(maxBatchBytes / perValue) + 1;
      await rejectsWithCode(
        store.batch(Array.from({ length: count }, (_, i) => ({ type: 'set' as const, key: `part${i}`, value: chunk }))),
        'NOT_SERIALIZABLE',
        'maxBatchBytes',
      );
      assert.deepEqual(await contents(store), before, 'refused writes changed nothing');
      if (maxValueBytes + 64 <= maxBatchBytes) {
        await store.set('at bound', atBound);
        assert.equal(((await store.get<string>('at bound')) ?? '').length, atBound.length);
      }
      await store.set('after', 'written');
      const want = await contents(store);
      if (options.reopen) {
        store = await reopen(store);
        assert.deepEqual(await contents(store), want, 'the same state after a reopen');
      }
    });

    it('resolves flush() once earlier writes are in', async () => {
      const store = await make();
      const writes = Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, i));
      await store.flush();
      await Promise.all(writes);
      assert.equal((await store.keys()).length, 20);
    });

    it('rejects every call after close() with STATE_CLOSED; close() twice is fine', async () => {
      const store = await make();
      await store.set('k', 1);
      await store.close();
      await store.close();
      await rejectsWithCode(store.get('k'), 'STATE_CLOSED');
      await rejectsWithCode(store.set('k', 2), 'STATE_CLOSED');
      await rejectsWithCode(store.update('k', () => 3), 'STATE_CLOSED');
      await rejectsWithCode(store.delete('k'), 'STATE_CLOSED');
      await rejectsWithCode(store.keys(), 'STATE_CLOSED');
      await rejectsWithCode(store.batch([]), 'STATE_CLOSED');
    });

    if (options.reopen) {
      it('keeps every write across a reopen: sets, updates, deletes and batches', async () => {
        let store = await make();
        const proto = JSON.parse('{"__proto__":{"x":1},"y":[{"z":null}]}') as JsonValue;
        await store.set('a', { deep: { list: [1, 'two', null] } });
        await store.set('proto', proto);
        await store.set('text', 'multi\nline \u2028 🎉');
        await store.set('gone', 1);
        await store.delete('gone');
        await Promise.all(Array.from({ length: 50 }, () => store.update<number>('counter', (n) => (n ?? 0) + 1)));
        await store.batch([
          { type: 'set', key: 'b1', value: 1 },
          { type: 'set', key: 'b2', value: 2 },
          { type: 'delete', key: 'a' },
        ]);
        store = await reopen(store);
        assert.deepEqual(sorted(await store.keys()), ['b1', 'b2', 'counter', 'proto', 'text']);
        assert.deepEqual(await store.get('proto'), proto);
        assert.equal(Object.prototype.hasOwnProperty.call(await store.get('proto'), '__proto__'), true);
        assert.equal(await store.get('text'), 'multi\nline \u2028 🎉');
        assert.equal(await store.get('counter'), 50);
        assert.ok(Object.isFrozen(await store.get('proto')), 'values read back are frozen too');
        await store.set('after', true);
        store = await reopen(store);
        assert.equal(await store.get('after'), true);
        assert.equal(await store.get('counter'), 50);
      });
    }
  });
}
