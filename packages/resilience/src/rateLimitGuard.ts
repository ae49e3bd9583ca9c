import type { RouteRequest } from '@sov/core';
import type { RateLimiter } from './rateLimiter';

/** Options of rateLimitGuard. */
export interface RateLimitGuardOptions {
  /** The bucket a request draws from. @default the verified caller's id, else one shared 'anonymous' bucket */
  key?: (request: RouteRequest) => string;
  /** Tokens a request costs. @default 1 */
  cost?: (request: RouteRequest) => number;
}

/**
 * Turns a RateLimiter into an endpoint guard: `ctx.endpoint.addGuard(rateLimitGuard(limiter))`.
 * A request over the limit is answered 429 RATE_LIMITED with a Retry-After header.
 *
 * @example
 * agent.use({ name: 'limits', api: undefined, initialize: (ctx) => ctx.endpoint.addGuard(rateLimitGuard(limiter)) });
 */
export function rateLimitGuard(limiter: RateLimiter, options: RateLimitGuardOptions = {}): (request: RouteRequest) => void {
  const key = options.key ?? ((request: RouteRequest) => request.caller?.id ?? 'anonymous');
  const cost = options.cost;
  return (request) => limiter.take(key(request), cost ? cost(request) : 1);
}
