/** The JSON that crosses the wire between agents and registries. */

import type { WireFailure } from './errors/sovError';

/**
 * The largest stake, price or stake change: 2^53 − 1 minor units, the
 * largest integer that every JSON reader (JavaScript included) reads exactly.
 * Amounts on the wire are JSON integers of minor units (as cents are of a
 * dollar): never fractions, so 0.1 + 0.2 can never drift.
 */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

/** Whether a value is an amount: a whole number of minor units in [0, MAX_AMOUNT]. */
export function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A service an agent offers, as listed in its registry record. */
export interface ServiceListing {
  name: string;
  description?: string;
  /** Price per call, a whole number of minor units (see MAX_AMOUNT). */
  price?: number;
  requiresStake?: boolean;
  /** Stake a caller needs, a whole number of minor units. */
  minStake?: number;
}

/** What an agent sends to register. */
export interface AgentRegistration {
  id: string;
  name: string;
  /** Base URL of the agent's endpoint. */
  endpoint: string;
  capabilities: string[];
  services?: ServiceListing[];
  metadata?: Record<string, unknown>;
  /** Lease length in seconds. */
  ttl?: number;
}

/** An agent as the registry knows it. */
export interface AgentRecord {
  id: string;
  name: string;
  endpoint: string;
  capabilities: string[];
  services: ServiceListing[];
  metadata: Record<string, unknown>;
  ttl: number;
  registeredAt: string;
  lastHeartbeat: string;
  expiresAt: string;
  /** Reputation in [0, 1], moved by feedback backed by signed receipts. @default 0.5 for a newcomer */
  reputation: number;
  /** Share of the time since registration that the agent held a live lease, in [0, 1]. */
  availability: number;
}

/** A registration lease. */
export interface Lease {
  /** Lease length in seconds. */
  ttl: number;
  /** ISO time at which the lease ends unless renewed. */
  expiresAt: string;
}

/** A registry search. All listed capabilities must match. */
export interface SearchQuery {
  capabilities?: string[];
  minReputation?: number;
  /** Highest price per call, a whole number of minor units. */
  maxPrice?: number;
  limit?: number;
  cursor?: string;
}

/** One page of search results. */
export interface SearchPage {
  agents: AgentRecord[];
  /** How many agents matched in all. */
  total: number;
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** One result of a registry's federated search (`GET /v1/federation/search`). */
export type FederatedSearchRecord = AgentRecord & {
  /** The registry it is credited to: the registry asked when it lists the agent, else the first peer (in configured order) that does. */
  registry: string;
  /** Every registry that lists it (ids), the credited one first. */
  registries: string[];
  /** Its score, the guide's (see @sov/federation's serviceScore), by which the page is ranked. */
  score: number;
};

/** How one registry counted in a federated search (`GET /v1/federation/search`). */
export interface FederatedSearchOutcome {
  id: string;
  url: string;
  /** The registry asked itself (its own store), not a mirror. */
  self: boolean;
  /** Whether its records are in the answer. */
  ok: boolean;
  /** Whether its event stream is connected (always true for the registry asked). */
  connected: boolean;
  /** When its last event or keep-alive arrived (mirrors only). */
  lastEventAt?: string;
  /** Its agents on the page (an agent several registries list counts for each). */
  count: number;
  /** Its records matching the search in all (of those mirrored). */
  total: number;
  /**
   * Set when the peer lists more than the registry's maxRecordsPerPeer (or
   * maxBytesPerPeer) allows: some of its records are not mirrored; for the
   * registry asked, when more of its own match than maxRecordsPerPeer (only
   * that many are ranked).
   */
  truncated?: boolean;
  /** Why its records are left out: UNAVAILABLE (no snapshot yet, stream down past staleAfterMs, not peered). */
  error?: { code: string; message: string };
}

/**
 * What a registry's federated search (`GET /v1/federation/search`) answers
 * with `success: true`: one page, the best `limit` matches across its own
 * listings and its peers' mirrored ones, with how each registry counted.
 */
export interface FederatedSearchPage {
  agents: FederatedSearchRecord[];
  /** How many agents matched in all (an agent several registries list counts once). */
  total: number;
  registries: FederatedSearchOutcome[];
  /** Always null: a federated search answers the best page only. */
  nextCursor: null;
}

/** A call to an agent's request route (`POST /rpc`). */
export interface AgentRequest {
  service?: string;
  params?: unknown;
  [key: string]: unknown;
}

/** What a request handler answers; the endpoint sends it with `success: true`. */
export interface RpcReply {
  result: unknown;
  [key: string]: unknown;
}

/** The success half of every response. */
export type WireSuccess<T extends object> = { success: true } & T;

/** Every response on the wire. */
export type WireResponse<T extends object> = WireSuccess<T> | WireFailure;

/** The kinds of event a registry streams. */
export const REGISTRY_EVENT_TYPES = [
  'peer_joined',
  'peer_left',
  'peer_updated',
  'stake_changed',
  'reputation_changed',
  'new_request',
] as const;

/** One kind of registry event. */
export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[number];

/** An event from a registry's stream. `id` orders events and resumes a stream (Last-Event-ID). */
export interface RegistryEvent {
  id: string;
  type: RegistryEventType;
  /** ISO time the registry recorded it. */
  at: string;
  /** `peer_id` names the agent concerned; other fields depend on the type. */
  data: { peer_id: string; [key: string]: unknown };
}

/** A client's stake as the registry holds it. */
export interface StakeBalance {
  agentId: string;
  /** A whole number of minor units in [0, MAX_AMOUNT]. */
  stake: number;
}

/**
 * Proof that an agent served a call: signed by the agent that served it
 * (`callee`), naming the agent it served (`caller`). Feedback needs one.
 */
export interface CallReceipt {
  /** Unique per call; a receipt counts once. */
  id: string;
  caller: string;
  callee: string;
  service: string;
  /** ISO time the call was served. */
  at: string;
  /** base64url Ed25519 signature by the callee over the canonical receipt (see @sov/crypto). */
  signature: string;
}

/** Feedback on a served call: a rating in [0, 1] and the receipt that proves the call. */
export interface Feedback {
  receipt: CallReceipt;
  rating: number;
}
