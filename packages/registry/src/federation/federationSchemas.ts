/** JSON Schemas of the federation routes' inputs, compiled once per registry. */

import { MAX_AMOUNT } from '@sov/core';
import { agentRequestSchema, registrationSchema, searchSchema, serviceNameSchema } from '../internal/schemas';

const did = { type: 'string', minLength: 1, maxLength: 256 } as const;
const signature = { type: 'string', minLength: 86, maxLength: 86, pattern: '^[A-Za-z0-9_-]+$' } as const;
const url = { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s]+$' } as const;

/** Most registries a path or a peer list may name (the hop limit applies after). */
export const MAX_PATH_ENTRIES = 32;
const MAX_PEERS = 256;

export const peerListSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['registry', 'url', 'peers', 'issuedAt', 'signature'],
  properties: {
    registry: did,
    url,
    peers: {
      type: 'array',
      maxItems: MAX_PEERS,
      items: { type: 'object', additionalProperties: false, required: ['id', 'url'], properties: { id: did, url } },
    },
    issuedAt: { type: 'string', maxLength: 64 },
    signature,
  },
} as const;

const hops = {
  type: 'array',
  maxItems: MAX_PATH_ENTRIES,
  items: { type: 'object', additionalProperties: false, required: ['registry', 'signature'], properties: { registry: did, signature } },
} as const;

export const federationRpcSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['service', 'params'],
  properties: {
    service: { enum: ['peer', 'route'] },
    params: { type: 'object' },
  },
} as const;

export const peerParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['list'],
  properties: { list: peerListSchema },
} as const;

export const routeParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['request', 'hops'],
  properties: {
    request: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'origin', 'sourceRegistry', 'targetRegistry', 'targetAgent', 'path', 'operation', 'timestamp', 'signature'],
      properties: {
        id: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' },
        origin: did,
        sourceRegistry: did,
        targetRegistry: did,
        targetAgent: did,
        path: { type: 'array', minItems: 1, maxItems: MAX_PATH_ENTRIES, items: did },
        operation: {
          type: 'object',
          additionalProperties: false,
          required: ['service'],
          properties: agentRequestSchema.properties,
        },
        timestamp: { type: 'string', maxLength: 64 },
        signature,
      },
    },
    hops,
  },
} as const;

/** What a downstream registry answers to a routed request. */
export const routeReplySchema = {
  type: 'object',
  required: ['hops', 'answer', 'returns'],
  properties: {
    hops,
    returns: hops,
    answer: {
      type: 'object',
      required: ['outcome', 'at'],
      properties: {
        outcome: {
          type: 'object',
          required: ['success'],
          properties: { success: { type: 'boolean' } },
        },
        at: { type: 'string', maxLength: 64 },
      },
    },
  },
} as const;

const registration = registrationSchema(2 ** 31 - 1).properties;
const isoTime = { type: 'string', minLength: 1, maxLength: 64 } as const;
const share = { type: 'number', minimum: 0, maximum: 1 } as const;

/**
 * A peer's agent record, as a mirror accepts it: the registration's own
 * rules (id, name, endpoint, capabilities, services with exact prices) plus
 * the record's lease times, reputation and availability. Fields a newer
 * peer adds are allowed here and dropped when the record is kept.
 */
export const mirroredRecordSchema = {
  type: 'object',
  required: ['id', 'name', 'endpoint', 'capabilities', 'services', 'metadata', 'ttl', 'registeredAt', 'lastHeartbeat', 'expiresAt', 'reputation', 'availability'],
  properties: {
    id: registration.id,
    name: registration.name,
    endpoint: registration.endpoint,
    capabilities: registration.capabilities,
    services: registration.services,
    metadata: registration.metadata,
    ttl: registration.ttl,
    registeredAt: isoTime,
    lastHeartbeat: isoTime,
    expiresAt: isoTime,
    reputation: share,
    availability: share,
  },
} as const;

/** The largest weight of the score a federated search takes (GET /v1/federation/search?weightReputation=...). */
export const MAX_SCORE_WEIGHT = 1000;
const weight = { type: 'number', minimum: 0, maximum: MAX_SCORE_WEIGHT } as const;

/** The score fields of a federated search's query, all numbers but `service`. */
export const SCORE_FIELDS = ['weightReputation', 'weightPrice', 'weightAvailability', 'weightPrimary', 'scoreMaxPrice'] as const;

/** GET /v1/federation/search: a search, plus how its page is ranked (the guide's score). */
export const federatedSearchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...searchSchema.properties,
    /** The listing whose price counts. @default the first capability */
    service: serviceNameSchema,
    /** The score's maxPrice. @default maxPrice, else 1000 */
    scoreMaxPrice: { type: 'number', exclusiveMinimum: 0, maximum: MAX_AMOUNT },
    weightReputation: weight,
    weightPrice: weight,
    weightAvailability: weight,
    weightPrimary: weight,
  },
} as const;
