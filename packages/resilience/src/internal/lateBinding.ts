import { systemClock, type Clock, type Logger } from '@sov/core';

/** A clock that follows the agent's once the agent is known, the system clock before. */
export function lateClock(get: () => Clock | undefined): Clock {
  return {
    now: () => (get() ?? systemClock).now(),
    setTimeout: (fn, ms) => (get() ?? systemClock).setTimeout(fn, ms),
    clearTimeout: (handle) => (get() ?? systemClock).clearTimeout(handle),
  };
}

/** A logger that writes to the agent's once the agent is initialized, and nowhere before. */
export function lateLogger(get: () => Logger | undefined, meta: Record<string, unknown> = {}): Logger {
  const write = (level: 'error' | 'warn' | 'info' | 'debug') => (message: string, extra?: Record<string, unknown>) =>
    get()?.[level](message, { ...meta, ...extra });
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    child: (more) => lateLogger(get, { ...meta, ...more }),
  };
}
