import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSovError, type Logger } from '@sov/core';
import { waitFor } from '@sov/testing';
import { FileStateStore, MemoryStateStore } from '@sov/state';
import { EventBus } from './eventBus';
import { isQueueFullError } from './errors/queueFullError';
import type { AgentEvent, HandlerErrorData } from './types';

type TestEvents = { job: { n: number }; other: { n: number } };

function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, ...(meta ? { meta } : {}) });
  const logger = { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => logger };
  return logger;
}

/** A gate handlers can wait on. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

describe('EventBus', () => {
  it('queues { id, type, data, timestamp, source } and hands it to every handler of the type', async () => {
    const bus = new EventBus<TestEvents>({ source: 'agent-1' });
    const seen: AgentEvent[] = [];
    bus.on('job', async (e) => void seen.push(e));
    bus.on('job', async (e) => void seen.push(e));
    bus.on('other', async (e) => void seen.push(e));
    await bus.start();
    const event = await bus.emit('job', { n: 1 });
    await bus.idle();
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(event);
    expect(event).toMatchObject({ type: 'job', data: { n: 1 }, source: 'agent-1' });
    const next = await bus.emit('other', { n: 2 });
    expect(event.id).toMatch(/^[0-9a-f-]{36}-[0-9a-z]+$/);
    expect(next.id).not.toBe(event.id);
    await bus.idle();
    expect(seen.map((e) => e.type)).toEqual(['job', 'job', 'other']);
    expect(JSON.parse(JSON.stringify(event))).toEqual({ id: event.id, type: 'job', data: { n: 1 }, timestamp: event.timestamp, source: 'agent-1' });
    expect(new Date(event.timestamp).toISOString()).toBe(event.timestamp);
    // Read-only for handlers: what one handler sees, the others see too.
    expect(() => {
      (event as { type: string }).type = 'changed';
    }).toThrow(TypeError);
    expect(event.type).toBe('job');
    await bus.stop();
  });

  it('on returns a dispose function; once fires once; off removes every registration of a handler', async () => {
    const bus = new EventBus<TestEvents>();
    const calls: string[] = [];
    const shared = async (e: AgentEvent<'job', { n: number }>) => void calls.push(`shared ${e.data.n}`);
    const dispose = bus.on('job', async (e) => void calls.push(`disposed ${e.data.n}`));
    bus.on('job', shared);
    bus.on('job', shared);
    bus.once('job', async (e) => void calls.push(`once ${e.data.n}`));
    await bus.start();
    await bus.emit('job', { n: 1 });
    await bus.idle();
    dispose();
    expect(bus.off('job', shared)).toBe(true);
    expect(bus.off('job', shared)).toBe(false);
    expect(bus.listenerCount('job')).toBe(0);
    await bus.emit('job', { n: 2 });
    await bus.idle();
    expect(calls.sort()).toEqual(['disposed 1', 'once 1', 'shared 1', 'shared 1']);
    // Many short-lived handlers leave nothing behind in the bus.
    for (let i = 0; i < 1000; i++) bus.on('job', async () => undefined)();
    expect((bus as unknown as { byHandler: Map<unknown, unknown> }).byHandler.size).toBe(0);
    await bus.stop();
  });

  it('refuses a sync handler at registration, naming it', () => {
    const bus = new EventBus<TestEvents>();
    function countJobs() {
      return Promise.resolve();
    }
    expect(() => bus.on('job', countJobs)).toThrow(/Handler for "job" must be async.*"countJobs" is not an async function/);
    expect(() => bus.on('job', 'nope' as never)).toThrow(/got string, not a function/);
    try {
      bus.on('job', countJobs);
    } catch (e) {
      expect(isSovError(e) && e.code).toBe('INVALID_INPUT');
    }
    expect(bus.listenerCount('job')).toBe(0);
  });

  it('refuses bad options, types and keys with the field named, and changes nothing', async () => {
    expect(() => new EventBus({ capacity: 0 })).toThrow(/capacity/);
    expect(() => new EventBus({ concurrency: 1.5 })).toThrow(/concurrency/);
    expect(() => new EventBus({ overflow: 'spill' as never })).toThrow(/overflow.*wait, reject or dropOldest/);
    expect(() => new EventBus({ handlerTimeoutMs: -1 })).toThrow(/handlerTimeoutMs/);
    const bus = new EventBus<TestEvents>();
    expect(() => bus.on('job', async () => undefined, { timeoutMs: 0 })).toThrow(/timeoutMs/);
    await expect(bus.emit('job', { n: 1 })).rejects.toMatchObject({ code: 'LIFECYCLE' });
    await bus.start();
    await expect(bus.emit('' as 'job', { n: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(bus.emit('x'.repeat(201) as 'job', { n: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(bus.emit('job', { n: 1 }, { key: 7 as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(bus.stats()).toMatchObject({ accepted: 0, depth: 0 });
    await bus.stop();
  });

  it('isolates handlers: one throws, one rejects, the others run and the processor goes on', async () => {
    const logger = recordingLogger();
    const bus = new EventBus<TestEvents>({ logger });
    const ran: string[] = [];
    const errors: HandlerErrorData[] = [];
    bus.on('job', async function throwsAtOnce() {
      throw new Error('boom');
    });
    bus.on('job', async function rejectsLater() {
      await Promise.resolve();
      return Promise.reject(new Error('later'));
    });
    bus.on('job', async (e) => void ran.push(`ok ${e.data.n}`), { name: 'healthy' });
    bus.on('error', async (e) => void errors.push(e.data));
    await bus.start();
    for (let n = 0; n < 3; n++) await bus.emit('job', { n });
    await waitFor('6 errors', () => errors.length === 6);
    await bus.idle();
    expect(ran).toEqual(['ok 0', 'ok 1', 'ok 2']);
    expect(errors.map((e) => e.handler).sort()).toEqual(['rejectsLater', 'rejectsLater', 'rejectsLater', 'throwsAtOnce', 'throwsAtOnce', 'throwsAtOnce']);
    expect(errors[0]).toMatchObject({ eventType: 'job', timedOut: false, error: { code: 'INTERNAL' } });
    const logged = logger.lines.filter((l) => l.message === 'event handler failed');
    expect(logged).toHaveLength(6);
    expect(logged[0]!.meta).toMatchObject({ eventType: 'job', handler: expect.any(String), eventId: expect.any(String), error: expect.any(String) });
    expect(bus.stats()).toMatchObject({ failed: 6, handled: 9 });
    await bus.stop();
  });

  it('logs a failing error handler and never re-emits its error (no loop)', async () => {
    const logger = recordingLogger();
    const bus = new EventBus<TestEvents>({ logger });
    let errorRuns = 0;
    bus.on('job', async () => {
      throw new Error('first');
    });
    bus.on('error', async () => {
      errorRuns++;
      throw new Error('the error handler fails too');
    });
    await bus.start();
    await bus.emit('job', { n: 1 });
    await waitFor('the log of the failed error handler', () => logger.lines.some((l) => l.message === 'error handler failed'));
    await bus.idle();
    expect(errorRuns).toBe(1);
    expect(bus.stats()).toMatchObject({ handled: 2, failed: 2 });
    await bus.stop();
  });

  it('times a handler out: its signal aborts and it becomes an error event with TIMEOUT', async () => {
    const bus = new EventBus<TestEvents>({ handlerTimeoutMs: 40 });
    let aborted: unknown;
    const errors: HandlerErrorData[] = [];
    bus.on('job', async function hangs(_e, { signal }) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      aborted = signal.reason;
    });
    bus.on('job', async () => undefined, { name: 'quick', timeoutMs: 10_000 });
    bus.on('error', async (e) => void errors.push(e.data));
    await bus.start();
    await bus.emit('job', { n: 1 });
    await waitFor('the error', () => errors.length === 1);
    expect(errors[0]).toMatchObject({ handler: 'hangs', timedOut: true, error: { code: 'TIMEOUT' } });
    expect(errors[0]!.error.message).toMatch(/Handler "hangs" for event "job".*40 ms/);
    await waitFor('the handler to see its abort', () => aborted !== undefined);
    expect(aborted).toMatchObject({ code: 'TIMEOUT' });
    await bus.idle();
    expect(bus.stats()).toMatchObject({ handled: 2, failed: 1 });
    await bus.stop();
  });

  it('handles events with the same key in emission order, others in parallel', async () => {
    const bus = new EventBus<TestEvents>({ concurrency: 8 });
    const order = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    bus.on('job', async (e) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      // Later events of a key finish sooner if they were let run alongside.
      await new Promise((r) => setTimeout(r, (50 - e.data.n) % 7));
      const list = order.get(e.key!) ?? [];
      list.push(e.data.n);
      order.set(e.key!, list);
      running--;
    });
    await bus.start();
    const emits = [];
    for (let n = 0; n < 50; n++) emits.push(bus.emit('job', { n }, { key: `peer-${n % 3}` }));
    await Promise.all(emits);
    await bus.idle();
    for (const [key, list] of order) {
      const expected = Array.from({ length: 50 }, (_, n) => n).filter((n) => `peer-${n % 3}` === key);
      expect({ key, list }).toEqual({ key, list: expected });
    }
    // One per key at a time: three keys, three at once at most, and more than one.
    expect(maxRunning).toBe(3);
    await bus.stop();
  });

  describe('a full queue under a flood', () => {
    it('reject: refuses with QUEUE_FULL, queues nothing more, handles what it took', async () => {
      const g = gate();
      const bus = new EventBus<TestEvents>({ capacity: 5, concurrency: 1, overflow: 'reject' });
      const handled: number[] = [];
      bus.on('job', async (e) => {
        await g.wait;
        handled.push(e.data.n);
      });
      await bus.start();
      const outcomes = await Promise.allSettled(Array.from({ length: 1000 }, (_, n) => bus.emit('job', { n })));
      const refused = outcomes.filter((o) => o.status === 'rejected');
      // One in flight, five waiting.
      expect(outcomes.length - refused.length).toBe(6);
      expect(refused.every((o) => isQueueFullError((o).reason))).toBe(true);
      expect((refused[0] as PromiseRejectedResult).reason.message).toMatch(/Event "job" refused: the event queue is full \(capacity 5\)/);
      expect(bus.stats()).toMatchObject({ depth: 5, rejected: 994 });
      g.open();
      await bus.idle();
      expect(handled).toEqual([0, 1, 2, 3, 4, 5]);
      await bus.stop();
    });

    it('dropOldest: keeps the newest, drops and counts the oldest waiting', async () => {
      const g = gate();
      const bus = new EventBus<TestEvents>({ capacity: 5, concurrency: 1, overflow: 'dropOldest' });
      const handled: number[] = [];
      bus.on('job', async (e) => {
        await g.wait;
        handled.push(e.data.n);
      });
      await bus.start();
      for (let n = 0; n < 1000; n++) await bus.emit('job', { n });
      expect(bus.stats()).toMatchObject({ depth: 5, dropped: 994 });
      g.open();
      await bus.idle();
      expect(handled).toEqual([0, 995, 996, 997, 998, 999]);
      await bus.stop();
    });

    it('dropOldest keeps the order of a key for the events it keeps', async () => {
      const g = gate();
      const bus = new EventBus<TestEvents>({ capacity: 4, concurrency: 2, overflow: 'dropOldest' });
      const handled: string[] = [];
      bus.on('job', async (e) => {
        await g.wait;
        handled.push(`${e.key}:${e.data.n}`);
      });
      await bus.start();
      for (let n = 0; n < 40; n++) await bus.emit('job', { n }, { key: n % 2 ? 'a' : 'b' });
      g.open();
      await bus.idle();
      for (const key of ['a', 'b']) {
        const ns = handled.filter((h) => h.startsWith(`${key}:`)).map((h) => Number(h.slice(2)));
        expect([...ns].sort((x, y) => x - y)).toEqual(ns);
      }
      expect(handled).toHaveLength(2 + 4);
      await bus.stop();
    });

    it('wait: emitters wait for room and every event is handled, in order', async () => {
      const bus = new EventBus<TestEvents>({ capacity: 8, concurrency: 2, overflow: 'wait', maxWaitingEmitters: 500 });
      const handled: number[] = [];
      let maxDepth = 0;
      bus.on('job', async (e) => {
        maxDepth = Math.max(maxDepth, bus.depth);
        await new Promise((r) => setImmediate(r));
        handled.push(e.data.n);
      });
      await bus.start();
      await Promise.all(Array.from({ length: 200 }, (_, n) => bus.emit('job', { n })));
      await bus.idle();
      expect(handled).toHaveLength(200);
      expect(new Set(handled).size).toBe(200);
      expect(maxDepth).toBeLessThanOrEqual(8);
      expect(bus.stats()).toMatchObject({ dropped: 0, rejected: 0, handled: 200 });
      await bus.stop();
    });

    it('wait: bounds the emitters that wait; past the bound emit refuses with QUEUE_FULL', async () => {
      const g = gate();
      const bus = new EventBus<TestEvents>({ capacity: 2, concurrency: 1, overflow: 'wait', maxWaitingEmitters: 3 });
      bus.on('job', async () => g.wait);
      await bus.start();
      const emits = Array.from({ length: 10 }, (_, n) => bus.emit('job', { n }));
      const refused = await Promise.allSettled(emits.slice(6));
      expect(refused.every((o) => o.status === 'rejected' && isQueueFullError(o.reason))).toBe(true);
      expect((refused[0] as PromiseRejectedResult).reason.message).toMatch(/3 emitters already wait for room/);
      g.open();
      await Promise.all(emits.slice(0, 6));
      await bus.idle();
      expect(bus.stats()).toMatchObject({ handled: 6, rejected: 4 });
      await bus.stop();
    });
  });

  it('stops: refuses new events, drains within the budget, reports what was dropped (memory mode)', async () => {
    const g = gate();
    const bus = new EventBus<TestEvents>({ concurrency: 1 });
    let abortedReason: unknown;
    bus.on('job', async (e, { signal }) => {
      if (e.data.n === 0) return;
      if (e.data.n === 1) return new Promise((r) => setTimeout(r, 10));
      await Promise.race([g.wait, new Promise<void>((r) => signal.addEventListener('abort', () => r()))]);
      abortedReason = signal.reason;
    });
    await bus.start();
    await bus.emit('job', { n: 0 });
    await bus.idle();
    for (let n = 1; n < 5; n++) await bus.emit('job', { n });
    // 1 finishes while draining, 2 hangs (aborted at the deadline), 3 and 4 never start.
    const report = await bus.stop(50);
    expect(report).toEqual({ drained: 1, remaining: 3, kept: false });
    expect(abortedReason).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(bus.stats().dropped).toBe(3);
    await expect(bus.emit('job', { n: 9 })).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(bus.post('job', { n: 9 })).toBe(false);
    await expect(bus.start()).rejects.toMatchObject({ code: 'LIFECYCLE' });
  });

  it('wait-policy emitters blocked at stop are refused with SHUTTING_DOWN', async () => {
    const g = gate();
    const bus = new EventBus<TestEvents>({ capacity: 1, concurrency: 1 });
    bus.on('job', async () => g.wait);
    await bus.start();
    await bus.emit('job', { n: 0 });
    await bus.emit('job', { n: 1 });
    const blocked = bus.emit('job', { n: 2 });
    const stopping = bus.stop(20);
    await expect(blocked).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    g.open();
    await stopping;
  });

  describe('the direct path (memory mode, nothing waiting, room to run)', () => {
    it('runs started together share one deadline: those that settle in time count ok, each other one times out on its own', async () => {
      const bus = new EventBus<TestEvents>({ handlerTimeoutMs: 40 });
      const errors: HandlerErrorData[] = [];
      const reasons = new Map<number, unknown>();
      bus.on('job', async function sometimesHangs(e, { signal }) {
        if (e.data.n % 2 === 0) return;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        reasons.set(e.data.n, signal.reason);
      });
      bus.on('error', async (e) => void errors.push(e.data));
      await bus.start();
      const events = [];
      // One burst, one tick: one clock reading, one deadline for all five.
      for (let n = 0; n < 5; n++) events.push(bus.emit('job', { n }));
      const ids = (await Promise.all(events)).map((e) => e.id);
      await waitFor('2 errors', () => errors.length === 2);
      expect(errors.map((e) => e.eventId).sort()).toEqual([ids[1], ids[3]].sort());
      expect(errors.every((e) => e.timedOut && e.error.code === 'TIMEOUT')).toBe(true);
      await waitFor('2 abort reasons', () => reasons.size === 2);
      expect(reasons.get(1)).toMatchObject({ code: 'TIMEOUT' });
      await bus.idle();
      expect(bus.stats()).toMatchObject({ handled: 7, failed: 2 });
      // A later burst gets a deadline of its own and is not cut short by the first one's.
      await bus.emit('job', { n: 6 });
      await bus.idle();
      expect(bus.stats()).toMatchObject({ handled: 8, failed: 2 });
      await bus.stop();
    });

    it('several handlers of one event each get their own context, signal and timeout', async () => {
      const bus = new EventBus<TestEvents>();
      const contexts: unknown[] = [];
      const errors: HandlerErrorData[] = [];
      let quickSignal: AbortSignal | undefined;
      bus.on('job', async function slow(_e, ctx) {
        contexts.push(ctx);
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      }, { timeoutMs: 30 });
      bus.on('job', async function quick(_e, ctx) {
        contexts.push(ctx);
        expect(ctx.redelivered).toBe(false);
        quickSignal = ctx.signal;
      });
      bus.on('error', async (e) => void errors.push(e.data));
      await bus.start();
      await bus.emit('job', { n: 1 });
      await waitFor('the error', () => errors.length === 1);
      expect(errors[0]).toMatchObject({ handler: 'slow', timedOut: true });
      expect(contexts).toHaveLength(2);
      expect(contexts[0]).not.toBe(contexts[1]);
      expect(quickSignal?.aborted).toBe(false);
      await bus.idle();
      expect(bus.stats()).toMatchObject({ handled: 2, failed: 1 });
      await bus.stop();
    });

    it('a handler added or removed while events are in flight changes only the events emitted after', async () => {
      const bus = new EventBus<TestEvents>();
      const g = gate();
      const seen: string[] = [];
      const first = async (e: AgentEvent<'job', { n: number }>) => {
        seen.push(`first:${e.data.n}`);
        await g.wait;
      };
      bus.on('job', first);
      await bus.start();
      await bus.emit('job', { n: 1 });
      const offSecond = bus.on('job', async (e) => void seen.push(`second:${e.data.n}`));
      await bus.emit('job', { n: 2 });
      expect(bus.off('job', first)).toBe(true);
      await bus.emit('job', { n: 3 });
      offSecond();
      await bus.emit('job', { n: 4 });
      expect(bus.stats().inFlight).toBe(2);
      g.open();
      await bus.idle();
      expect(seen).toEqual(['first:1', 'first:2', 'second:2', 'second:3']);
      expect(bus.stats()).toMatchObject({ accepted: 4, handled: 4, failed: 0 });
      await bus.stop();
    });

    it('isolates a throw before the first await of an async handler', async () => {
      const bus = new EventBus<TestEvents>();
      const errors: HandlerErrorData[] = [];
      const handled: number[] = [];
      bus.on('job', async function throwsAtOnce(e) {
        if (e.data.n === 1) throw new Error('bad job');
        handled.push(e.data.n);
      });
      bus.on('job', async (e) => void handled.push(e.data.n * 10));
      bus.on('error', async (e) => void errors.push(e.data));
      await bus.start();
      for (let n = 0; n < 3; n++) await bus.emit('job', { n });
      await bus.idle();
      expect(handled.sort((a, b) => a - b)).toEqual([0, 0, 2, 10, 20]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ handler: 'throwsAtOnce', timedOut: false, error: { message: 'bad job' } });
      expect(bus.stats()).toMatchObject({ handled: 4, failed: 1 });
      await bus.stop();
    });

    it('a handler that emits as it starts queues the event instead of nesting: a long chain neither overflows the stack nor loses order', async () => {
      const bus = new EventBus<TestEvents>({ capacity: 100_000, concurrency: 100_000 });
      const started: number[] = [];
      bus.on('job', async (e) => {
        started.push(e.data.n);
        if (e.data.n < 20_000) void bus.emit('job', { n: e.data.n + 1 });
      });
      await bus.start();
      await bus.emit('job', { n: 0 });
      await waitFor('20,001 handlers to start', () => started.length === 20_001);
      await bus.idle();
      expect(started.every((n, i) => n === i)).toBe(true);
      expect(bus.stats()).toMatchObject({ accepted: 20_001, handled: 20_001, failed: 0 });
      await bus.stop();
    });

    it('a run that reads its signal only after shutdown ran out of time sees it aborted', async () => {
      const bus = new EventBus<TestEvents>();
      const g = gate();
      let late: AbortSignal | undefined;
      bus.on('job', async (_e, ctx) => {
        await g.wait;
        late = ctx.signal;
      });
      await bus.start();
      await bus.emit('job', { n: 1 });
      const report = await bus.stop(20);
      expect(report).toMatchObject({ remaining: 1 });
      g.open();
      await waitFor('the late event', () => late !== undefined);
      expect(late!.aborted).toBe(true);
      expect(late!.reason).toMatchObject({ code: 'SHUTTING_DOWN' });
    });
  });

  describe('durable mode', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sov-events-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('journals before emit resolves and removes an event once its handlers settled', async () => {
      const store = await FileStateStore.open({ dir });
      const g = gate();
      const bus = new EventBus<TestEvents>({ journal: store });
      bus.on('job', async () => g.wait);
      await bus.start();
      const event = await bus.emit('job', { n: 1 });
      expect((await store.entries('events/')).map(([, v]) => v)).toEqual([JSON.parse(JSON.stringify(event))]);
      g.open();
      await bus.idle();
      await waitFor('the journal in the store', () => store.entries('events/') !== undefined);
      await bus.stop();
      expect(await store.keys('events/')).toEqual([]);
      await store.close();
    });

    it('keeps what it did not finish at stop and handles it after a restart, with the same ids', async () => {
      let store = await FileStateStore.open({ dir });
      const g = gate();
      const first = new EventBus<TestEvents>({ journal: store, concurrency: 1 });
      const firstSeen: string[] = [];
      first.on('job', async (e) => {
        firstSeen.push(e.id);
        await g.wait;
      });
      await first.start();
      const emitted = [];
      for (let n = 0; n < 5; n++) emitted.push(await first.emit('job', { n }, { key: 'k' }));
      const report = await first.stop(20);
      expect(report).toMatchObject({ remaining: 5, kept: true });
      await store.close();

      store = await FileStateStore.open({ dir });
      const second = new EventBus<TestEvents>({ journal: store });
      const seen: Array<{ id: string; n: number; redelivered: boolean; key: string | undefined }> = [];
      second.on('job', async (e, ctx) => void seen.push({ id: e.id, n: e.data.n, redelivered: ctx.redelivered, key: e.key }));
      await second.start();
      await second.idle();
      expect(seen.map((s) => s.n)).toEqual([0, 1, 2, 3, 4]);
      expect(seen.map((s) => s.id)).toEqual(emitted.map((e) => e.id));
      expect(seen.every((s) => s.redelivered && s.key === 'k')).toBe(true);
      // New events after recovery take fresh journal keys and come after.
      await second.emit('job', { n: 5 });
      await second.idle();
      expect(seen.map((s) => s.n)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(seen[5]!.redelivered).toBe(false);
      await second.stop();
      expect(await store.keys('events/')).toEqual([]);
      g.open();
      await store.close();
    });

    it('refuses data the journal cannot hold (NOT_SERIALIZABLE) and queues nothing', async () => {
      const store = new MemoryStateStore();
      const bus = new EventBus<{ job: unknown }>({ journal: store });
      let ran = 0;
      bus.on('job', async () => void ran++);
      await bus.start();
      await expect(bus.emit('job', { at: new Date() })).rejects.toMatchObject({ code: 'NOT_SERIALIZABLE' });
      await expect(bus.emit('job', () => 1)).rejects.toMatchObject({ code: 'NOT_SERIALIZABLE' });
      await bus.emit('job', { fine: true });
      await bus.idle();
      expect(ran).toBe(1);
      expect(bus.stats()).toMatchObject({ accepted: 1, depth: 0 });
      await bus.stop();
    });

    it('a dropped event (dropOldest) leaves the journal too', async () => {
      const store = new MemoryStateStore();
      const g = gate();
      const bus = new EventBus<TestEvents>({ journal: store, capacity: 2, concurrency: 1, overflow: 'dropOldest' });
      bus.on('job', async () => g.wait);
      await bus.start();
      for (let n = 0; n < 10; n++) await bus.emit('job', { n });
      await waitFor('7 dropped events', () => bus.stats().dropped === 7);
      await new Promise((r) => setImmediate(r));
      const kept = (await store.entries<AgentEvent<'job', { n: number }>>('events/')).map(([, e]) => e.data.n).sort((a, b) => a - b);
      expect(kept).toEqual([0, 8, 9]);
      g.open();
      await bus.stop();
    });
  });
});
