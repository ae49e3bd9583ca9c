import { ManualClock } from './manualClock';

describe('ManualClock', () => {
  it('reads its start time until moved, and moves by advance and set', () => {
    const clock = new ManualClock({ start: 1_000 });
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
    clock.set(5_000);
    expect(clock.now()).toBe(5_000);
    expect(new ManualClock().now()).toBe(Date.UTC(2026, 0, 1));
  });

  it('fires due timers in order of due time, ties in the order they were set, each at its own time', () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`b1@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`b2@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push('late'), 31);
    clock.advance(30);
    expect(fired).toEqual(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires the timers that timers set when they come due within the same advance', () => {
    const clock = new ManualClock({ start: 0 });
    const fired: number[] = [];
    const tick = () => {
      fired.push(clock.now());
      if (fired.length < 10) clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
    clock.advance(50);
    expect(fired).toEqual([100, 200, 300, 400]);
  });

  it('never fires a cleared timer, and ignores a handle it does not know', () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    const handle = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => fired.push('kept'), 10);
    clock.clearTimeout(handle);
    clock.clearTimeout('not a handle');
    clock.advance(10);
    expect(fired).toEqual(['kept']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('lets a timer clear a later one that is due in the same advance', () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push('first');
      clock.clearTimeout(later);
    }, 5);
    const later = clock.setTimeout(() => fired.push('second'), 6);
    clock.advance(10);
    expect(fired).toEqual(['first']);
  });

  it('advance(0) fires what is due now (a zero or negative delay) and nothing later', () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('zero'), 0);
    clock.setTimeout(() => fired.push('negative'), -5);
    clock.setTimeout(() => fired.push('one'), 1);
    expect(fired).toEqual([]);
    clock.advance(0);
    expect(fired).toEqual(['zero', 'negative']);
    expect(clock.now()).toBe(0);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses advance(%p) with INVALID_INPUT and moves nothing', (ms) => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('due'), 0);
    expect(() => clock.advance(ms)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: `ManualClock.advance moves time forward only: ms must be a finite number >= 0, got ${String(ms)}` }) as Error,
    );
    expect(clock.now()).toBe(0);
    expect(fired).toEqual([]);
  });

  it('refuses a non-finite start or set with INVALID_INPUT', async () => {
    expect(() => new ManualClock({ start: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as Error);
    const clock = new ManualClock({ start: 7 });
    expect(() => clock.set(Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: 'ManualClock.set needs a finite time in epoch ms, got NaN' }) as Error);
    await expect(clock.advanceAsync(-1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(clock.now()).toBe(7);
  });

  it('set forward fires what comes due; set backward fires nothing and keeps each due time', () => {
    const clock = new ManualClock({ start: 1_000 });
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 500);
    clock.set(900);
    clock.advance(599);
    expect(fired).toEqual([]);
    clock.set(1_500);
    expect(fired).toEqual([1_500]);
  });

  it('advanceAsync lets the async work of one timer run before the next fires', async () => {
    const clock = new ManualClock({ start: 0 });
    const log: string[] = [];
    clock.setTimeout(() => {
      log.push('first');
      void Promise.resolve().then(() => log.push('first continued'));
    }, 10);
    clock.setTimeout(() => log.push('second'), 10);
    await clock.advanceAsync(10);
    expect(log).toEqual(['first', 'first continued', 'second']);
  });

  describe('over real time', () => {
    it('reads the real time shifted by what advance and set added, on real timers', async () => {
      const clock = new ManualClock({ overRealTime: true });
      expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
      clock.advance(60_000);
      expect(clock.now() - Date.now()).toBeGreaterThan(59_900);
      clock.set(Date.UTC(2030, 0, 1));
      expect(Math.abs(clock.now() - Date.UTC(2030, 0, 1))).toBeLessThan(50);
      const fired = await new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(true), 1));
      expect(fired).toBe(true);
      expect(clock.pendingTimers).toBe(0);
    });

    it('starts at the given time and keeps running from there', () => {
      const clock = new ManualClock({ overRealTime: true, start: Date.UTC(2020, 0, 1) });
      expect(Math.abs(clock.now() - Date.UTC(2020, 0, 1))).toBeLessThan(50);
    });
  });
});
