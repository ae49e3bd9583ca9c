import { SovError, type RegistryEvent } from '@sov/core';
import type { EventReplay, RegistryStore, StoreSearch, StoredPage } from './registryStore';
import type { StoredAgent } from './storedAgent';

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

/**
 * A capability's agents, kept in search order lazily: sorted again only after
 * a change of membership or rank. Holds ids, so a heartbeat changes nothing here.
 */
class RankedSet {
  readonly ids = new Set<string>();
  private sorted: string[] | undefined;

  add(id: string): void {
    this.ids.add(id);
    this.sorted = undefined;
  }

  remove(id: string): void {
    this.ids.delete(id);
    this.sorted = undefined;
  }

  ordered(records: Map<string, StoredAgent>): string[] {
    if (!this.sorted) {
      const list: StoredAgent[] = [];
      for (const id of this.ids) {
        const r = records.get(id);
        if (r) list.push(r);
      }
      this.sorted = list.sort(byRank).map((r) => r.id);
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
  protected readonly records = new Map<string, StoredAgent>();
  protected readonly stakes = new Map<string, number>();
  protected readonly receipts = new Set<string>();
  protected events: RegistryEvent[] = [];
  protected lastEventSeq = 0;
  private readonly byCapability = new Map<string, RankedSet>();
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
    return Promise.resolve(this.records.get(id));
  }

  delete(id: string): Promise<boolean> {
    return Promise.resolve(this.deleteSync(id));
  }

  search(query: StoreSearch, now: number): Promise<StoredPage> {
    try {
      return Promise.resolve(this.searchSync(query, now));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  private searchSync(query: StoreSearch, now: number): StoredPage {
    const caps = query.capabilities ?? [];
    let ranked: string[];
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
    const page: StoredAgent[] = [];
    let total = 0;
    for (const id of ranked) {
      const r = this.records.get(id);
      if (!r || r.expiresAtMs <= now) continue;
      if (query.minReputation !== undefined && r.reputation < query.minReputation) continue;
      if (query.maxPrice !== undefined && lowestPrice(r) > query.maxPrice) continue;
      if (others.length && !others.every((s) => s.ids.has(r.id))) continue;
      if (total >= offset && page.length < query.limit) page.push(r);
      total++;
    }
    const nextCursor = offset + page.length < total ? encodeCursor(offset + page.length) : null;
    return { agents: page, total, nextCursor };
  }

  expire(now: number): Promise<StoredAgent[]> {
    const gone: StoredAgent[] = [];
    for (const r of this.records.values()) if (r.expiresAtMs <= now) gone.push(r);
    for (const r of gone) this.deleteSync(r.id);
    return Promise.resolve(gone);
  }

  count(): Promise<number> {
    return Promise.resolve(this.records.size);
  }

  getStake(agentId: string): Promise<number> {
    return Promise.resolve(this.stakes.get(agentId) ?? 0);
  }

  adjustStake(agentId: string, delta: number): Promise<number> {
    const next = (this.stakes.get(agentId) ?? 0) + delta;
    if (next < 0) {
      return Promise.reject(
        new SovError('INSUFFICIENT_STAKE', `Cannot debit ${-delta} from ${agentId}: its stake is ${this.stakes.get(agentId) ?? 0}`),
      );
    }
    this.stakes.set(agentId, next);
    return Promise.resolve(next);
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

  eventsAfter(afterId: string | undefined): Promise<EventReplay> {
    if (afterId === undefined) return Promise.resolve({ events: [...this.events], truncated: false });
    const after = Number(afterId);
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
    const old = this.records.get(agent.id);
    this.records.set(agent.id, agent);
    if (old) {
      const sameCaps = old.capabilities.length === agent.capabilities.length && old.capabilities.every((c, i) => agent.capabilities[i] === c);
      // A heartbeat or a metadata change: rank and membership are unchanged.
      if (sameCaps && old.reputation === agent.reputation) return;
      this.unindex(old);
    }
    for (const c of agent.capabilities) {
      let set = this.byCapability.get(c);
      if (!set) this.byCapability.set(c, (set = new RankedSet()));
      set.add(agent.id);
    }
    this.all.add(agent.id);
  }

  protected deleteSync(id: string): boolean {
    const old = this.records.get(id);
    if (!old) return false;
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
