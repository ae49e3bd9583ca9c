import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { isRemoteError, systemClock, toSovError, type Clock, type RegistryClient } from '@sov/core';
import type { HealthAffects, HealthCheck } from './healthMonitor';

/**
 * Whether the registry answers: any HTTP answer (even NOT_FOUND) counts as
 * reachable; a network error or a timeout does not. Feeds `/ready`.
 *
 * @example
 * monitor.addCheck(registryCheck(registry, agent.id));
 */
export function registryCheck(registry: RegistryClient, agentId: string, options: { name?: string; affects?: HealthAffects } = {}): HealthCheck {
  return {
    name: options.name ?? 'registryReachable',
    affects: options.affects ?? 'ready',
    run: async () => {
      try {
        await registry.get(agentId);
        return { ok: true, detail: 'reachable' };
      } catch (e) {
        if (isRemoteError(e) && e.httpStatus < 500) return { ok: true, detail: `reachable (${e.code})` };
        return { ok: false, detail: `unreachable: ${toSovError(e).message}` };
      }
    },
  };
}

/**
 * Event-loop lag: the p99 delay of the loop since the last run, from Node's
 * event-loop histogram. A loop that lags is a process that cannot serve. Feeds `/health`.
 */
export function eventLoopLagCheck(options: { maxLagMs?: number; name?: string; affects?: HealthAffects } = {}): HealthCheck {
  const maxLagMs = options.maxLagMs ?? 500;
  let histogram: IntervalHistogram | undefined;
  return {
    name: options.name ?? 'eventLoopLag',
    affects: options.affects ?? 'health',
    run: () => {
      if (!histogram) {
        histogram = monitorEventLoopDelay({ resolution: 20 });
        histogram.enable();
        return { ok: true, detail: { p99Ms: 0, maxLagMs } };
      }
      const p99Ms = Math.round(histogram.percentile(99) / 1e6);
      histogram.reset();
      return { ok: p99Ms <= maxLagMs, detail: { p99Ms, maxLagMs } };
    },
    dispose: () => {
      histogram?.disable();
      histogram = undefined;
    },
  };
}

/**
 * Heap in use against the heap limit. Feeds `/health`.
 * @param options.maxHeapRatio share of the heap limit above which the check fails (default 0.9)
 */
export function memoryCheck(
  options: { maxHeapRatio?: number; read?: () => { heapUsed: number; heapLimit: number }; name?: string; affects?: HealthAffects } = {},
): HealthCheck {
  const maxHeapRatio = options.maxHeapRatio ?? 0.9;
  const read = options.read ?? (() => ({ heapUsed: process.memoryUsage().heapUsed, heapLimit: getHeapStatistics().heap_size_limit }));
  return {
    name: options.name ?? 'memory',
    affects: options.affects ?? 'health',
    run: () => {
      const { heapUsed, heapLimit } = read();
      const ratio = heapLimit > 0 ? heapUsed / heapLimit : 0;
      return { ok: ratio <= maxHeapRatio, detail: { heapUsedMb: Math.round(heapUsed / 1048576), heapRatio: Number(ratio.toFixed(3)), maxHeapRatio } };
    },
  };
}

/** Depth of a work queue (requests in flight, calls waiting in a bulkhead) against a maximum. Feeds `/ready`. */
export function queueDepthCheck(depth: () => number, options: { max?: number; name?: string; affects?: HealthAffects } = {}): HealthCheck {
  const max = options.max ?? 1000;
  return {
    name: options.name ?? 'queueDepth',
    affects: options.affects ?? 'ready',
    run: () => {
      const d = depth();
      return { ok: d <= max, detail: { depth: d, max } };
    },
  };
}

/**
 * Time since the last successful request (or since the check was made, when
 * there was none). Without `maxIdleMs` it only reports (an idle agent is not a
 * sick one); with it, a longer silence fails. Feeds `/ready`.
 */
export function lastSuccessCheck(
  lastSuccessAt: () => number | undefined,
  options: { maxIdleMs?: number; clock?: Clock; name?: string; affects?: HealthAffects } = {},
): HealthCheck {
  const clock = options.clock ?? systemClock;
  const since = clock.now();
  return {
    name: options.name ?? 'lastSuccess',
    affects: options.affects ?? 'ready',
    run: () => {
      const at = lastSuccessAt();
      const sinceMs = clock.now() - (at ?? since);
      const ok = options.maxIdleMs === undefined || sinceMs <= options.maxIdleMs;
      return { ok, detail: { sinceMs, ever: at !== undefined, ...(options.maxIdleMs === undefined ? {} : { maxIdleMs: options.maxIdleMs }) } };
    },
  };
}
