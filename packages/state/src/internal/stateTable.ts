import { ValidationError } from '@sov/core';
import { NotSerializableError } from '../errors/notSerializableError';
import type { ResolvedStateLimits } from '../stateLimits';
import type { JsonValue, StateOperation } from '../stateStore';
import { formatBytes, toFrozenJson } from './frozenJson';

/**
 * A write whose key and value have been checked; the value is a frozen copy
 * and `json` its JSON text (what the journal writes).
 */
export type PreparedOp = { type: 'set'; key: string; value: JsonValue; json: string; bytes: number } | { type: 'delete'; key: string };

/** What a key held before a write: its value, or ABSENT. */
export const ABSENT: unique symbol = Symbol('absent');
/** One entry of an undo log: a key and what it held before. */
export type UndoEntry = readonly [key: string, before: JsonValue | typeof ABSENT];

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ValidationError('state key', [{ path: '/', message: `must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}` }]);
  }
  return key;
}

// Key bytes as the journal writes them: quotes, escapes, a comma and the op tag.
const keyBytes = (key: string): number => Buffer.byteLength(key, 'utf8') + 8;

/**
 * The in-memory map behind every store in this package: checks keys and
 * values against the limits, keeps frozen copies, answers reads.
 * Persistence is the store's job.
 */
export class StateTable {
  readonly map = new Map<string, JsonValue>();

  constructor(readonly limits: ResolvedStateLimits) {}

  /** Checks a key for a read. */
  key(key: unknown): string {
    return checkKey(key);
  }

  /** Checks a set on its own (a write of one operation: the batch bound applies to it too). */
  prepareSet(key: unknown, value: unknown): PreparedOp {
    const op = this.prepareOneSet(key, value);
    this.checkWriteSize(op.key, keyBytes(op.key) + op.bytes);
    return op;
  }

  prepareDelete(key: unknown): PreparedOp {
    const k = checkKey(key);
    this.checkWriteSize(k, keyBytes(k));
    return { type: 'delete', key: k };
  }

  /** Checks every operation of a batch; throws on the first bad one, before anything is applied. */
  prepareBatch(operations: readonly StateOperation[]): PreparedOp[] {
    if (!Array.isArray(operations)) throw new ValidationError('state batch', [{ path: '/', message: 'must be an array of operations' }]);
    let total = 0;
    return operations.map((op: StateOperation, i) => {
      let prepared: PreparedOp;
      if (op?.type === 'set') {
        const set = this.prepareOneSet(op.key, op.value);
        total += keyBytes(set.key) + set.bytes;
        prepared = set;
      } else if (op?.type === 'delete') {
        prepared = { type: 'delete', key: checkKey(op.key) };
        total += keyBytes(prepared.key);
      } else {
        throw new ValidationError('state batch', [{ path: `/${i}/type`, message: 'must be "set" or "delete"' }]);
      }
      this.checkWriteSize(prepared.key, total, i);
      return prepared;
    });
  }

  /** Applies a write and returns what it replaced, for an undo log. */
  apply(op: PreparedOp): UndoEntry {
    const before: UndoEntry = [op.key, this.map.has(op.key) ? this.map.get(op.key)! : ABSENT];
    if (op.type === 'set') this.map.set(op.key, op.value);
    else this.map.delete(op.key);
    return before;
  }

  /** Reverts writes: `undo` in the order they were applied (it is walked backwards). */
  revert(undo: readonly UndoEntry[], map: Map<string, JsonValue> = this.map): void {
    for (let i = undo.length - 1; i >= 0; i--) {
      const [key, before] = undo[i]!;
      if (before === ABSENT) map.delete(key);
      else map.set(key, before);
    }
  }

  keys(prefix: string | undefined): string[] {
    if (prefix === undefined || prefix === '') return [...this.map.keys()];
    const out: string[] = [];
    for (const k of this.map.keys()) if (k.startsWith(prefix)) out.push(k);
    return out;
  }

  entries(prefix: string | undefined): Array<[string, JsonValue]> {
    if (prefix === undefined || prefix === '') return [...this.map.entries()];
    const out: Array<[string, JsonValue]> = [];
    for (const e of this.map.entries()) if (e[0].startsWith(prefix)) out.push(e);
    return out;
  }

  private prepareOneSet(key: unknown, value: unknown): Extract<PreparedOp, { type: 'set' }> {
    const k = checkKey(key);
    const frozen = toFrozenJson(k, value, this.limits);
    return { type: 'set', key: k, value: frozen.value, json: frozen.json, bytes: frozen.bytes };
  }

  private checkWriteSize(key: string, bytes: number, index?: number): void {
    const max = this.limits.maxBatchBytes;
    if (bytes <= max) return;
    const what = index === undefined ? 'the write' : `the batch (at operation ${index})`;
    throw new NotSerializableError(key, '/', `makes ${what} ${bytes} bytes as JSON, more than ${formatBytes(max)} (limits.maxBatchBytes)`);
  }
}
