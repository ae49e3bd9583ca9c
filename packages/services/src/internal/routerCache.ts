import type { Clock, VerifiedCaller } from '@sov/core';
import type { CacheTerms } from '../serviceDefinition';
import type { CompiledService, ServiceCache } from './compiledService';
import { paramsKey } from './paramsKey';

/**
 * The key of a call's answer in the router's cache: the params' key, then
 * the caller's id for a per-caller service. Undefined (not cached) for an
 * anonymous caller of a per-caller service, and for params that have no
 * JSON form. The params' key comes first because it ends where it must (a
 * tag and a fixed-size digest, or a tag and an encoding that says where it
 * ends), so what follows is the caller's id whatever characters it holds:
 * two callers never share a key (the id first, a caller whose id holds a
 * newline could name another's key).
 */
export function cacheKeyOf(cache: ServiceCache, params: unknown, caller: VerifiedCaller | undefined): string | undefined {
  if (cache.perCaller && caller === undefined) return undefined;
  let key: string;
  try {
    key = paramsKey(params);
  } catch {
    return undefined;
  }
  return cache.perCaller ? `${key}\n${caller!.id}` : key;
}

/** The terms a cached answer is sent with: how long it stays fresh, and for whom. */
export function cacheTerms(cache: ServiceCache, ttlMs: number): CacheTerms {
  return { ttlMs, scope: cache.perCaller ? 'caller' : 'shared' };
}

/**
 * Keeps a checked, successful answer of a cacheable service for its TTL on
 * the router's clock, counting the answers it pushed out; its terms, or
 * undefined when it cannot be kept (it has no JSON form).
 */
export function storeAnswer(service: CompiledService, key: string, result: unknown, clock: Clock): CacheTerms | undefined {
  const cache = service.cache!;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch {
    return undefined;
  }
  if (json === undefined) return undefined;
  service.stats.cache!.evictions += cache.answers.set(key, json, clock.now() + cache.ttlMs);
  return cacheTerms(cache, cache.ttlMs);
}
