import * as coreInternal from '@sov/core/internal';
import { ManualClock, waitFor } from './index';

describe('the time tools of @sov/testing', () => {
  it('are the ones the SDK packages test with (one implementation, in @sov/core/internal)', () => {
    expect(ManualClock).toBe(coreInternal.ManualClock);
    expect(waitFor).toBe(coreInternal.waitFor);
  });

  it('drive a timer and await its effect together', async () => {
    const clock = new ManualClock({ start: 0 });
    let fired = false;
    clock.setTimeout(() => (fired = true), 100);
    setImmediate(() => clock.advance(100));
    await expect(waitFor('the timer to fire', () => fired, { timeoutMs: 1000 })).resolves.toBe(true);
  });
});
