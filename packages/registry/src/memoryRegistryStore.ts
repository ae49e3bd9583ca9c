import { MAX_AMOUNT, SovError, type RegistryEvent } from '@sov/core';
import type { EventReplay, RegistryStore, StoreSearch, StoredPage } from './registryStore';
import type { AgentStanding, StoredAgent } from './storedAgent';

/** Options of MemoryRegistryStore. */
export interface MemoryRegistryStoreOptions {
  /** How many recent events are kept for replay (Last-Event-ID). @default 10000 */
  eventRetention?: number;
  /** How many used receipt ids are remembered. @default 1000000 */
  receiptRetention?: number;
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new SovError('INVALID_INPUT', `Invalid cursor: ${JSON.stringify(cursor)}`);
  return Number(m[1]);
}

function lowestPrice(agent: StoredAgent): number {
  let min = Infinity;
  for (const s of agent.services) if (typeof s.price === 'number' && s.price < min) min = s.price;
  return min === Infinity ? 0 : min;
}

const byRank = (a: StoredAgent, b: StoredAgent) => b.reputation - a.reputation || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Where an agent lives in memory; heartbeats replace `agent` in place, so ranked lists stay valid. */
interface Slot {
  agent: StoredAgent;
  /** The expiry bucket (whole second) the agent is filed under. */
  bucket: number;
}

/**
 * A capability's agents, kept in search order lazily: sorted again only after
 * a change of membership or rank. Holds slots, so a heartbeat changes nothing here.
 */
class RankedSet {
  readonly ids = new Set<string>();
  private sorted: Slot[] | undefined;

  add(id: string): void {
    this.ids.add(id);
    this.sorted = undefined;
  }

  remove(id: string): void {
    this.ids.delete(id);
    this.sorted = undefined;
  }

  ordered(slots: Map<string, Slot>): Slot[] {
    if (!this.sorted) {
      const list: Slot[] = [];
      for (const id of this.ids) {
        const slot = slots.get(id);
        if (slot) list.push(slot);
      }
      this.sorted = list.sort((a, b) => byRank(a.agent, b.agent));
    }
    return this.sorted;
  }
}

/**
 * A RegistryStore in memory. Indexes capability → agents, each kept in
 * search order, so a search walks only the agents of its rarest capability.
 * Also the in-memory half of the embedded (journal-backed) store.
 */
export class MemoryRegistryStore implements RegistryStore {
  protected readonly records = new Map<string, Slot>();
  protected readonly stakes = new Map<string, number>();
  protected readonly standings = new Map<string, AgentStanding>();
  protected readonly receipts = new Set<string>();
  protected events: RegistryEvent[] = [];
  protected lastEventSeq = 0;
  private readonly byCapability = new Map<string, RankedSet>();
  /**
   * Matches of recent searches. Valid while no agent joined, left, or changed
   * rank, capabilities or services (`version`), and until the first lease
   * among them could end (`validUntil`). Heartbeats keep entries valid.
   */
  private readonly searchCache = new Map<string, { version: number; validUntil: number; matches: Slot[] }>();
  private version = 0;
  /** Agents by the second their lease ends, so a sweep reads only what is due, not every agent. */
  private readonly expiryBuckets = new Map<number, Set<string>>();
  private lowestBucket = Infinity;
  private readonly all = new RankedSet();
  private readonly eventRetention: number;
  private readonly receiptRetention: number;

  constructor(options: MemoryRegistryStoreOptions = {}) {
    this.eventRetention = options.eventRetention ?? 10_000;
    this.receiptRetention = options.receiptRetention ?? 1_000_000;
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  put(agent: StoredAgent): Promise<void> {
    this.putSync(agent);
    return Promise.resolve();
  }

  get(id: string): Promise<StoredAgent | undefined> {
    return Promise.resolve(this.records.get(id)?.agent);
  }

  delete(id: string): Promise<boolean> {
    return Promise.resolve(this.deleteSync(id));
  }

  search(query: StoreSearch, now: number): Promise<StoredPage> {
    try {
      return Promise.resolve(this.searchSync(query, now));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private searchSync(query: StoreSearch, now: number): StoredPage {
    const caps = query.capabilities ?? [];
    let ranked: Slot[];
    let others: RankedSet[] = [];
    if (caps.length === 0) {
      ranked = this.all.ordered(this.records);
    } else {
      const sets = caps.map((c) => this.byCapability.get(c));
      if (sets.some((s) => s === undefined)) return { agents: [], total: 0, nextCursor: null };
      const present = (sets as RankedSet[]).sort((a, b) => a.ids.size - b.ids.size);
      ranked = present[0]!.ordered(this.records);
      others = present.slice(1);
    }
    const offset = query.cursor ? decodeCursor(query.cursor) : 0;
    const key = `${caps.join('\u0000')}|${query.minReputation ?? ''}|${query.maxPrice ?? ''}`;
    let cached = this.searchCache.get(key);
    if (!cached || cached.version !== this.version || cached.validUntil <= now) {
      cached = this.match(ranked, others, query, now);
      this.searchCache.delete(key);
      this.searchCache.set(key, cached);
      if (this.searchCache.size > 512) this.searchCache.delete(this.searchCache.keys().next().value!);
    }
    const total = cached.matches.length;
    const page = cached.matches.slice(offset, offset + query.limit).map((slot) => slot.agent);
    const nextCursor = offset + page.length < total ? encodeCursor(offset + page.length) : null;
    return { agents: page, total, nextCursor };
  }

  private match(ranked: Slot[], others: RankedSet[], query: StoreSearch, now: number) {
    const minReputation = query.minReputation ?? -Infinity;
    const maxPrice = query.maxPrice;
    const intersect = others.length > 0;
    const matches: Slot[] = [];
    let validUntil = Infinity;
    for (let i = 0; i < ranked.length; i++) {
      const slot = ranked[i]!;
      const r = slot.agent;
      // Ranked by reputation, high to low: nothing after this one qualifies.
      if (r.reputation < minReputation) break;
      if (r.expiresAtMs <= now) continue;
      if (maxPrice !== undefined && lowestPrice(r) > maxPrice) continue;
      if (intersect && !others.every((s) => s.ids.has(r.id))) continue;
      matches.push(slot);
      if (r.expiresAtMs < validUntil) validUntil = r.expiresAtMs;
    }
    return { version: this.version, validUntil, matches };
  }

  expire(now: number): Promise<StoredAgent[]> {
    const gone = this.due(now);
    for (const r of gone) this.deleteSync(r.id);
    return Promise.resolve(gone);
  }

  /** Agents whose lease ended at or before `now`. */
  protected due(now: number): StoredAgent[] {
    const gone: StoredAgent[] = [];
    const last = Math.floor(now / 1000);
    if (this.lowestBucket > last) return gone;
    for (const [bucket, ids] of this.expiryBuckets) {
      if (bucket > last) continue;
      for (const id of ids) {
        const agent = this.records.get(id)?.agent;
        if (agent && agent.expiresAtMs <= now) gone.push(agent);
      }
    }
    return gone;
  }

  private file(slot: Slot): void {
    const bucket = Math.floor(slot.agent.expiresAtMs / 1000);
    if (bucket === slot.bucket) return;
    this.unfile(slot);
    slot.bucket = bucket;
    let ids = this.expiryBuckets.get(bucket);
    if (!ids) this.expiryBuckets.set(bucket, (ids = new Set()));
    ids.add(slot.agent.id);
    if (bucket < this.lowestBucket) this.lowestBucket = bucket;
  }

  private unfile(slot: Slot): void {
    const ids = this.expiryBuckets.get(slot.bucket);
    if (!ids) return;
    ids.delete(slot.agent.id);
    if (ids.size === 0) {
      this.expiryBuckets.delete(slot.bucket);
      if (slot.bucket === this.lowestBucket) {
        this.lowestBucket = Infinity;
        for (const b of this.expiryBuckets.keys()) if (b < this.lowestBucket) this.lowestBucket = b;
      }
    }
  }

  count(): Promise<number> {
    return Promise.resolve(this.records.size);
  }

  getStake(agentId: string): Promise<number> {
    return Promise.resolve(this.stakes.get(agentId) ?? 0);
  }

  adjustStake(agentId: string, delta: number): Promise<number> {
    try {
      const next = this.nextStake(agentId, delta);
      this.stakes.set(agentId, next);
      return Promise.resolve(next);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The stake after adding delta; throws (changing nothing) when it would leave [0, MAX_AMOUNT]. */
  protected nextStake(agentId: string, delta: number): number {
    if (!Number.isSafeInteger(delta)) throw new SovError('INVALID_AMOUNT', `A stake change must be a whole number of minor units; got ${delta}`);
    const current = this.stakes.get(agentId) ?? 0;
    const next = current + delta;
    if (next < 0) throw new SovError('INSUFFICIENT_STAKE', `Cannot debit ${-delta} from ${agentId}: its stake is ${current}`);
    if (next > MAX_AMOUNT) {
      throw new SovError('INVALID_AMOUNT', `Cannot credit ${delta} to ${agentId}: its stake of ${current} would pass the largest amount, ${MAX_AMOUNT}`);
    }
    return next;
  }

  getStanding(agentId: string): Promise<AgentStanding | undefined> {
    return Promise.resolve(this.standings.get(agentId));
  }

  recordFeedback(feedback: { receiptId: string; standing: AgentStanding; agent?: StoredAgent }): Promise<boolean> {
    if (this.receipts.has(feedback.receiptId)) return Promise.resolve(false);
    this.rememberReceipt(feedback.receiptId);
    this.standings.set(feedback.standing.agentId, feedback.standing);
    if (feedback.agent) this.putSync(feedback.agent);
    return Promise.resolve(true);
  }

  useReceipt(receiptId: string): Promise<boolean> {
    if (this.receipts.has(receiptId)) return Promise.resolve(false);
    this.rememberReceipt(receiptId);
    return Promise.resolve(true);
  }

  appendEvent(event: Omit<RegistryEvent, 'id'>): Promise<RegistryEvent> {
    const full: RegistryEvent = { ...event, id: String(++this.lastEventSeq) };
    this.pushEvent(full);
    return Promise.resolve(full);
  }

  latestEventId(): Promise<string> {
    return Promise.resolve(String(this.lastEventSeq));
  }

  eventsAfter(afterId: string | undefined): Promise<EventReplay> {
    if (afterId === undefined) return Promise.resolve({ events: [...this.events], truncated: false });
    // Decimal digits only: Number() would also take '', '0x10' and '1e3'.
    const after = /^\d{1,15}$/.test(afterId) ? Number(afterId) : NaN;
    if (!Number.isInteger(after) || after < 0) {
      return Promise.reject(new SovError('INVALID_INPUT', `Invalid Last-Event-ID: ${JSON.stringify(afterId)}`));
    }
    const first = this.events[0];
    const truncated = first !== undefined && Number(first.id) > after + 1;
    return Promise.resolve({ events: this.events.filter((e) => Number(e.id) > after), truncated });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  protected putSync(agent: StoredAgent): void {
    let slot = this.records.get(agent.id);
    const old = slot?.agent;
    if (slot) slot.agent = agent;
    else this.records.set(agent.id, (slot = { agent, bucket: NaN }));
    this.file(slot);
    if (old) {
      const sameCaps = old.capabilities.length === agent.capabilities.length && old.capabilities.every((c, i) => agent.capabilities[i] === c);
      // A heartbeat or a metadata change: rank, membership and services are unchanged.
      if (sameCaps && old.reputation === agent.reputation && old.services === agent.services) return;
      this.unindex(old);
    }
    this.version++;
    for (const c of agent.capabilities) {
      let set = this.byCapability.get(c);
      if (!set) this.byCapability.set(c, (set = new RankedSet()));
      set.add(agent.id);
    }
    this.all.add(agent.id);
  }

  protected deleteSync(id: string): boolean {
    const slot = this.records.get(id);
    const old = slot?.agent;
    if (!slot || !old) return false;
    this.unfile(slot);
    this.version++;
    this.unindex(old);
    this.records.delete(id);
    return true;
  }

  protected rememberReceipt(receiptId: string): void {
    this.receipts.add(receiptId);
    if (this.receipts.size > this.receiptRetention) {
      const oldest = this.receipts.values().next().value;
      if (oldest !== undefined) this.receipts.delete(oldest);
    }
  }

  /** How many events the replay window holds. */
  protected eventRetentionLimit(): number {
    return this.eventRetention;
  }

  protected pushEvent(event: RegistryEvent): void {
    this.lastEventSeq = Math.max(this.lastEventSeq, Number(event.id));
    this.events.push(event);
    if (this.events.length > this.eventRetention) this.events.splice(0, this.events.length - this.eventRetention);
  }

  private unindex(agent: StoredAgent): void {
    for (const c of agent.capabilities) {
      const set = this.byCapability.get(c);
      set?.remove(agent.id);
      if (set?.ids.size === 0) this.byCapability.delete(c);
    }
    this.all.remove(agent.id);
  }
}
