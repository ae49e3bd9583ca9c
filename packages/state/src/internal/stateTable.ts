import { ValidationError } from '@sov/core';
import type { JsonValue, StateOperation } from '../stateStore';
import { toFrozenJson } from './frozenJson';

/** A write whose key and value have been checked; the value is a frozen copy. */
export type PreparedOp = { type: 'set'; key: string; value: JsonValue } | { type: 'delete'; key: string };

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ValidationError('state key', [{ path: '/', message: `must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}` }]);
  }
  return key;
}

/**
 * The in-memory map behind every store in this package: checks keys and
 * values, keeps frozen copies, answers reads. Persistence is the store's job.
 */
export class StateTable {
  readonly map = new Map<string, JsonValue>();

  /** Checks a key for a read. */
  key(key: unknown): string {
    return checkKey(key);
  }

  prepareSet(key: unknown, value: unknown): PreparedOp {
    const k = checkKey(key);
    return { type: 'set', key: k, value: toFrozenJson(k, value) };
  }

  prepareDelete(key: unknown): PreparedOp {
    return { type: 'delete', key: checkKey(key) };
  }

  /** Checks every operation of a batch; throws on the first bad one, before anything is applied. */
  prepareBatch(operations: readonly StateOperation[]): PreparedOp[] {
    if (!Array.isArray(operations)) throw new ValidationError('state batch', [{ path: '/', message: 'must be an array of operations' }]);
    return operations.map((op: StateOperation, i) => {
      if (op?.type === 'set') return this.prepareSet(op.key, op.value);
      if (op?.type === 'delete') return this.prepareDelete(op.key);
      throw new ValidationError('state batch', [{ path: `/${i}/type`, message: 'must be "set" or "delete"' }]);
    });
  }

  apply(op: PreparedOp): void {
    if (op.type === 'set') this.map.set(op.key, op.value);
    else this.map.delete(op.key);
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
}
