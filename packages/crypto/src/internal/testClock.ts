import type { Clock } from '@sov/core';

/** A clock tests move by hand. Not exported from the package. */
export function manualClock(start = Date.UTC(2025, 0, 1)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    advance(ms) {
      now += ms;
    },
    set(ms) {
      now = ms;
    },
  };
}
