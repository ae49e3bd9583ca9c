import { Bulkhead } from './bulkhead';
import { isBulkheadRejectedError } from './errors/bulkheadRejectedError';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Bulkhead', () => {
  it('runs limit calls at once, queues queue more and refuses the rest', async () => {
    const bulkhead = new Bulkhead({ name: 'peer', limit: 2, queue: 1 });
    const rejected = jest.fn();
    bulkhead.onReject(rejected);
    const g = gate();
    let started = 0;
    const work = async () => {
      started++;
      await g.promise;
      return started;
    };
    const running = [bulkhead.execute(work), bulkhead.execute(work), bulkhead.execute(work)];
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.queued).toBe(1);
    const refused = await bulkhead.execute(work).catch((e: unknown) => e);
    expect(isBulkheadRejectedError(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'BULKHEAD_FULL', status: 429, limit: 2, queue: 1 });
    expect(rejected).toHaveBeenCalledTimes(1);
    g.open();
    await Promise.all(running);
    expect(started).toBe(3);
    expect(bulkhead.executionSlots).toBe(2);
    await expect(bulkhead.execute(() => 'free again')).resolves.toBe('free again');
  });
});
