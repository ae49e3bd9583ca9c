import type { RegistryEventType } from '@sov/core';
import type { StoredAgent } from '../storedAgent';

interface CachedAnswer {
  generation: number;
  until: number;
  body: string;
}

/** Answers kept at most; the oldest goes first. */
const MAX_ANSWERS = 1000;

/**
 * Recent search answers, serialised, by request URL. An answer serves while
 * nothing that changes search results happened (the generation, moved on by
 * every join, leave, update and reputation change, this replica's or
 * another's) and for at most `ttlMs`, so heartbeat times in it are never
 * older than that, and never past the first lease in it that ends.
 */
export class SearchCache {
  private readonly answers = new Map<string, CachedAnswer>();
  private current = 0;

  /** @param ttlMs how long an answer may be served again; 0 keeps none. */
  constructor(private readonly ttlMs: number) {}

  /** A number that changes whenever search results may. */
  get generation(): number {
    return this.current;
  }

  /** Notes an event: all but stake changes and routed requests change search results, and make every answer stale. */
  noteEvent(type: RegistryEventType): void {
    if (type !== 'stake_changed' && type !== 'new_request') this.current++;
  }

  /** The answer to a URL while it still serves. */
  get(url: string, now: number): string | undefined {
    const cached = this.answers.get(url);
    return cached && cached.generation === this.current && cached.until > now ? cached.body : undefined;
  }

  /** Keeps the answer to a URL, searched at `generation` (read before the search) at `now`, for the agents it lists. */
  set(url: string, generation: number, now: number, agents: readonly StoredAgent[], body: string): void {
    if (this.ttlMs <= 0) return;
    let until = now + this.ttlMs;
    for (const a of agents) if (a.expiresAtMs < until) until = a.expiresAtMs;
    this.answers.delete(url);
    this.answers.set(url, { generation, until, body });
    if (this.answers.size > MAX_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
  }
}
