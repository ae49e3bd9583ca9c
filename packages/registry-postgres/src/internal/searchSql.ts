import { SovError } from '@sov/core';
import type { StoreSearch, StoredAgent } from '@sov/registry';

/** The two statements of one search: the page (one row more than the limit, to tell whether more follow) and the total. */
export interface SearchStatements {
  page: { text: string; values: unknown[] };
  count: { text: string; values: unknown[] };
}

/** Keyset cursor: the rank (reputation, id) of the last agent of a page. */
export function encodeCursor(agent: StoredAgent): string {
  return Buffer.from(JSON.stringify([agent.reputation, agent.id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'number' || !Number.isFinite(value[0]) || typeof value[1] !== 'string') {
    throw new SovError('INVALID_INPUT', `Invalid cursor: ${JSON.stringify(cursor)}`);
  }
  return [value[0], value[1]];
}

/**
 * The SQL of a search on the agents table of schema `s` (quoted), in the
 * embedded store's order (reputation high to low, then id). "Has every one of
 * these capabilities" is `capabilities @> $n`, which the GIN index serves;
 * the order and the keyset condition follow the (reputation DESC, id) btree.
 */
export function searchStatements(s: string, query: StoreSearch, now: number): SearchStatements {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const values: unknown[] = [now];
  const where = ['expires_at_ms > $1'];
  const caps = query.capabilities ?? [];
  if (caps.length) where.push(`capabilities @> $${values.push(caps)}::text[]`);
  if (query.minReputation !== undefined) where.push(`reputation >= $${values.push(query.minReputation)}`);
  if (query.maxPrice !== undefined) where.push(`min_price <= $${values.push(query.maxPrice)}`);
  const filter = where.join(' AND ');
  const pageValues = [...values];
  let pageFilter = filter;
  if (after) {
    const r = pageValues.push(after[0]);
    const i = pageValues.push(after[1]);
    pageFilter += ` AND (reputation < $${r} OR (reputation = $${r} AND id > $${i}))`;
  }
  const limit = pageValues.push(query.limit + 1);
  return {
    page: {
      text: `SELECT r.record FROM (SELECT id, reputation FROM ${s}.agents WHERE ${pageFilter} ORDER BY reputation DESC, id LIMIT $${limit}) a
             JOIN ${s}.agent_records r ON r.id = a.id ORDER BY a.reputation DESC, a.id`,
      values: pageValues,
    },
    count: { text: `SELECT count(*) AS n FROM ${s}.agents WHERE ${filter}`, values },
  };
}
