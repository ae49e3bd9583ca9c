import { ValidationError, type FieldProblem } from '@sov/core';
import type { StoreSearch } from '../registryStore';

/** The query fields of a search that are numbers. */
const SEARCH_NUMBERS: readonly string[] = ['minReputation', 'maxPrice', 'limit'];

/**
 * The store search a search query string asks for (`GET /v1/agents` and
 * `GET /v1/federation/search`): numbers parsed, then the whole query handed
 * to `check` (the search schema), which throws on anything else. A number
 * that does not parse is refused here with its field named. `numbers` names
 * the fields parsed as numbers (a route with more fields than the search's
 * reads them from the query `check` is given).
 */
export function storeSearchOf(
  q: Record<string, string | string[] | undefined>,
  check: (query: Record<string, unknown>) => void,
  numbers: readonly string[] = SEARCH_NUMBERS,
): StoreSearch {
  const query: Record<string, unknown> = {};
  const bad: FieldProblem[] = [];
  for (const [key, value] of Object.entries(q)) {
    if (key === 'capability') {
      query.capability = Array.isArray(value) ? value : [value];
    } else if (numbers.includes(key)) {
      const v = Array.isArray(value) ? value[0] : value;
      const n = v !== undefined && v.trim() !== '' ? Number(v) : NaN;
      if (Number.isNaN(n)) bad.push({ path: `/${key}`, message: `must be a number (got ${JSON.stringify(v)})` });
      else query[key] = n;
    } else {
      query[key] = Array.isArray(value) ? value[0] : value;
    }
  }
  if (bad.length) throw new ValidationError('search', bad);
  check(query);
  const search: StoreSearch = { limit: (query.limit as number | undefined) ?? 50 };
  if (query.capability) search.capabilities = query.capability as string[];
  if (query.minReputation !== undefined) search.minReputation = query.minReputation as number;
  if (query.maxPrice !== undefined) search.maxPrice = query.maxPrice as number;
  if (query.cursor !== undefined) search.cursor = query.cursor as string;
  return search;
}
