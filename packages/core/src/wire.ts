/** The JSON that crosses the wire between agents and registries. */

import type { WireFailure } from './errors/sovError';

/** A service an agent offers, as listed in its registry record. */
export interface ServiceListing {
  name: string;
  description?: string;
  /** Price per call in stake units. */
  price?: number;
  requiresStake?: boolean;
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
  reputation: number;
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
