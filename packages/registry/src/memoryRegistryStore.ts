import { SovError, type AgentRecord, type SearchPage, type SearchQuery } from '@sov/core';
import type { RegistryStore } from './registryStore';

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new SovError('INVALID_INPUT', `Invalid cursor: ${JSON.stringify(cursor)}`);
  return Number(m[1]);
}

function lowestPrice(record: AgentRecord): number {
  let min = Infinity;
  for (const s of record.services) if (typeof s.price === 'number' && s.price < min) min = s.price;
  return min === Infinity ? 0 : min;
}

/**
 * A RegistryStore in memory, with a capability → agents index so a search
 * reads only the agents that offer the rarest requested capability.
 */
export class MemoryRegistryStore implements RegistryStore {
  private readonly records = new Map<string, AgentRecord>();
  private readonly byCapability = new Map<string, Set<string>>();

  put(record: AgentRecord): Promise<void> {
    const old = this.records.get(record.id);
    if (old) this.unindex(old);
    this.records.set(record.id, record);
    for (const c of record.capabilities) {
      let set = this.byCapability.get(c);
      if (!set) this.byCapability.set(c, (set = new Set()));
      set.add(record.id);
    }
    return Promise.resolve();
  }

  get(id: string): Promise<AgentRecord | undefined> {
    return Promise.resolve(this.records.get(id));
  }

  delete(id: string): Promise<boolean> {
    const old = this.records.get(id);
    if (!old) return Promise.resolve(false);
    this.unindex(old);
    this.records.delete(id);
    return Promise.resolve(true);
  }

  search(query: Required<Pick<SearchQuery, 'limit'>> & SearchQuery, now: number): Promise<SearchPage> {
    const caps = query.capabilities ?? [];
    let candidates: Iterable<AgentRecord>;
    if (caps.length === 0) {
      candidates = this.records.values();
    } else {
      const sets = caps.map((c) => this.byCapability.get(c) ?? new Set<string>());
      sets.sort((a, b) => a.size - b.size);
      const [smallest, ...rest] = sets;
      const out: AgentRecord[] = [];
      for (const id of smallest ?? []) {
        if (rest.every((s) => s.has(id))) {
          const r = this.records.get(id);
          if (r) out.push(r);
        }
      }
      candidates = out;
    }
    const matched: AgentRecord[] = [];
    for (const r of candidates) {
      if (Date.parse(r.expiresAt) <= now) continue;
      if (query.minReputation !== undefined && r.reputation < query.minReputation) continue;
      if (query.maxPrice !== undefined && lowestPrice(r) > query.maxPrice) continue;
      matched.push(r);
    }
    // Stated order: reputation high to low, then id.
    matched.sort((a, b) => b.reputation - a.reputation || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const offset = query.cursor ? decodeCursor(query.cursor) : 0;
    const page = matched.slice(offset, offset + query.limit);
    const next = offset + query.limit < matched.length ? encodeCursor(offset + query.limit) : null;
    return Promise.resolve({ agents: page, total: matched.length, nextCursor: next });
  }

  expire(now: number): Promise<AgentRecord[]> {
    const gone: AgentRecord[] = [];
    for (const r of this.records.values()) {
      if (Date.parse(r.expiresAt) <= now) gone.push(r);
    }
    for (const r of gone) {
      this.unindex(r);
      this.records.delete(r.id);
    }
    return Promise.resolve(gone);
  }

  count(): Promise<number> {
    return Promise.resolve(this.records.size);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private unindex(record: AgentRecord): void {
    for (const c of record.capabilities) {
      const set = this.byCapability.get(c);
      set?.delete(record.id);
      if (set?.size === 0) this.byCapability.delete(c);
    }
  }
}
