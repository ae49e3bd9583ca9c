import { SovError, type Logger, type RegistryEvent } from '@sov/core';
import { FileStateStore, type JsonValue, type StateHealth, type StateStore } from '@sov/state';
import { MemoryRegistryStore, type MemoryRegistryStoreOptions } from './memoryRegistryStore';
import type { AgentStanding, StoredAgent } from './storedAgent';

/** Options of EmbeddedRegistryStore. */
export interface EmbeddedRegistryStoreOptions extends MemoryRegistryStoreOptions {
  /** Directory of the registry's journal and snapshots. Either this or `state`. */
  dir?: string;
  /** A state store to persist through instead of a FileStateStore in `dir`. */
  state?: StateStore;
  logger?: Logger;
}

const AGENT = 'agent:';
const STAKE = 'stake:';
const RECEIPT = 'receipt:';
const STANDING = 'standing:';
const EVENT = 'event:';
const eventKey = (seq: number) => `${EVENT}${String(seq).padStart(12, '0')}`;

/**
 * The registry's default store: every index in memory (MemoryRegistryStore),
 * every change written through @sov/state's journal before it is answered.
 * Nothing to install; a restarted registry knows every registration, stake,
 * used receipt and the events in its replay window.
 *
 * @example
 * const registry = await RegistryServer.start({ store: new EmbeddedRegistryStore({ dir: './registry-data' }), verifier });
 */
export class EmbeddedRegistryStore extends MemoryRegistryStore {
  private readonly options: EmbeddedRegistryStoreOptions;
  private state: StateStore | undefined;
  private firstEventSeq = 1;
  /** Serialises read-modify-write operations so concurrent ones cannot lose an update. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: EmbeddedRegistryStoreOptions) {
    super(options);
    if (!options.dir && !options.state) throw new SovError('INVALID_CONFIG', 'EmbeddedRegistryStore needs a dir or a state store');
    this.options = options;
  }

  override async open(): Promise<void> {
    if (this.state) return;
    this.state =
      this.options.state ??
      (await FileStateStore.open({ dir: this.options.dir!, ...(this.options.logger ? { logger: this.options.logger } : {}) }));
    for (const [, agent] of await this.state.entries<StoredAgent>(AGENT)) this.putSync(agent);
    for (const [key, stake] of await this.state.entries<number>(STAKE)) this.stakes.set(key.slice(STAKE.length), stake);
    for (const [, standing] of await this.state.entries<AgentStanding>(STANDING)) this.standings.set(standing.agentId, standing);
    for (const key of await this.state.keys(RECEIPT)) this.rememberReceipt(key.slice(RECEIPT.length));
    const events = (await this.state.entries<RegistryEvent>(EVENT)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (const [, event] of events) this.pushEvent(event);
    this.firstEventSeq = events.length ? Number(events[0]![1].id) : this.lastEventSeq + 1;
    this.options.logger?.info('registry store opened', {
      agents: this.records.size,
      stakes: this.stakes.size,
      standings: this.standings.size,
      events: this.events.length,
    });
  }

  override async put(agent: StoredAgent): Promise<void> {
    await this.db().set(AGENT + agent.id, agent);
    this.putSync(agent);
  }

  override async delete(id: string): Promise<boolean> {
    if (!this.records.has(id)) return false;
    await this.db().delete(AGENT + id);
    return this.deleteSync(id);
  }

  override async expire(now: number): Promise<StoredAgent[]> {
    const gone = this.due(now);
    if (gone.length === 0) return gone;
    await this.db().batch(gone.map((r) => ({ type: 'delete' as const, key: AGENT + r.id })));
    for (const r of gone) this.deleteSync(r.id);
    return gone;
  }

  override adjustStake(agentId: string, delta: number): Promise<number> {
    return this.serial(async () => {
      const next = this.nextStake(agentId, delta);
      await this.db().set(STAKE + agentId, next);
      this.stakes.set(agentId, next);
      return next;
    });
  }

  override useReceipt(receiptId: string): Promise<boolean> {
    return this.serial(async () => {
      if (this.receipts.has(receiptId)) return false;
      await this.db().set(RECEIPT + receiptId, 1);
      this.rememberReceipt(receiptId);
      return true;
    });
  }

  override recordFeedback(feedback: { receiptId: string; standing: AgentStanding; agent?: StoredAgent }): Promise<boolean> {
    return this.serial(async () => {
      if (this.receipts.has(feedback.receiptId)) return false;
      const ops: Array<{ type: 'set'; key: string; value: JsonValue }> = [
        { type: 'set', key: RECEIPT + feedback.receiptId, value: 1 },
        { type: 'set', key: STANDING + feedback.standing.agentId, value: feedback.standing as unknown as JsonValue },
      ];
      if (feedback.agent) ops.push({ type: 'set', key: AGENT + feedback.agent.id, value: feedback.agent as unknown as JsonValue });
      await this.db().batch(ops);
      this.rememberReceipt(feedback.receiptId);
      this.standings.set(feedback.standing.agentId, feedback.standing);
      if (feedback.agent) this.putSync(feedback.agent);
      return true;
    });
  }

  override appendEvent(event: Omit<RegistryEvent, 'id'>): Promise<RegistryEvent> {
    return this.serial(async () => {
      const seq = this.lastEventSeq + 1;
      const full: RegistryEvent = { ...event, id: String(seq) };
      const ops: Array<{ type: 'set'; key: string; value: JsonValue } | { type: 'delete'; key: string }> = [
        { type: 'set', key: eventKey(seq), value: full as unknown as JsonValue },
      ];
      // Keep the persisted window as long as the in-memory one.
      const drop = this.events.length + 1 - this.eventRetentionLimit();
      for (let i = 0; i < drop; i++) ops.push({ type: 'delete', key: eventKey(this.firstEventSeq + i) });
      await this.db().batch(ops);
      if (drop > 0) this.firstEventSeq += drop;
      this.pushEvent(full);
      return full;
    });
  }

  /**
   * Whether the registry's writes reach its disk: the state store's health.
   * Not ok while the disk refuses journal writes or snapshots (a refused write
   * rejects with STATE_WRITE_FAILED and changes nothing), with the failure in
   * `detail`; ok again once writes succeed. For /ready.
   */
  health(): StateHealth {
    if (!this.state) return { ok: false, detail: 'not open' };
    return this.state.health?.() ?? { ok: true, detail: 'open' };
  }

  override async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.state?.close();
    this.state = undefined;
  }

  private db(): StateStore {
    if (!this.state) throw new SovError('STATE_CLOSED', 'The registry store is not open');
    return this.state;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
