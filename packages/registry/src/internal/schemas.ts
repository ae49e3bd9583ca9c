/** JSON Schemas of every registry input, compiled once by the server. */

import { MAX_AMOUNT } from '@sov/core';

/** An amount: a whole number of minor units in [0, MAX_AMOUNT] (see core's MAX_AMOUNT). */
const amount = { type: 'integer', minimum: 0, maximum: MAX_AMOUNT } as const;

export const MAX_CAPABILITIES = 64;

/** A service's name, wherever one is given: a listing, a routed request, a federated search's `service`. */
export const serviceNameSchema = { type: 'string', minLength: 1, maxLength: 128 } as const;

export function registrationSchema(maxTtlSec: number) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'name', 'endpoint', 'capabilities'],
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 256 },
      name: { type: 'string', minLength: 1, maxLength: 128 },
      endpoint: { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s]+$' },
      capabilities: {
        type: 'array',
        maxItems: MAX_CAPABILITIES,
        uniqueItems: true,
        items: { type: 'string', minLength: 1, maxLength: 128 },
      },
      services: {
        type: 'array',
        maxItems: 64,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: serviceNameSchema,
            description: { type: 'string', maxLength: 1024 },
            price: amount,
            requiresStake: { type: 'boolean' },
            minStake: amount,
          },
        },
      },
      metadata: { type: 'object' },
      ttl: { type: 'integer', minimum: 1, maximum: maxTtlSec },
    },
  } as const;
}

export const metadataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['metadata'],
  properties: { metadata: { type: 'object' } },
} as const;

export const searchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    capability: { type: 'array', maxItems: MAX_CAPABILITIES, items: { type: 'string', minLength: 1, maxLength: 128 } },
    minReputation: { type: 'number', minimum: 0, maximum: 1 },
    maxPrice: amount,
    limit: { type: 'integer', minimum: 1, maximum: 500 },
    cursor: { type: 'string', maxLength: 256 },
  },
} as const;

export const stakeChangeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['amount'],
  properties: { amount: { type: 'integer', minimum: 1, maximum: MAX_AMOUNT } },
} as const;

export const feedbackSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['receipt', 'rating'],
  properties: {
    rating: { type: 'number', minimum: 0, maximum: 1 },
    receipt: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'caller', 'callee', 'service', 'at', 'signature'],
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 128 },
        caller: { type: 'string', minLength: 1, maxLength: 256 },
        callee: { type: 'string', minLength: 1, maxLength: 256 },
        service: { type: 'string', maxLength: 128 },
        at: { type: 'string', minLength: 1, maxLength: 64 },
        signature: { type: 'string', minLength: 1, maxLength: 256 },
      },
    },
  },
} as const;

/** A request routed to an agent (POST /v1/agents/:id/requests); a federated route's operation is one with its service named. */
export const agentRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service: serviceNameSchema,
    params: {},
  },
} as const;

/** The shape of an agent record in responses; compiled into a fast serializer. */
const agentRecordResponse = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    endpoint: { type: 'string' },
    capabilities: { type: 'array', items: { type: 'string' } },
    services: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          price: { type: 'integer' },
          requiresStake: { type: 'boolean' },
          minStake: { type: 'integer' },
        },
      },
    },
    metadata: { type: 'object', additionalProperties: true },
    ttl: { type: 'number' },
    registeredAt: { type: 'string' },
    lastHeartbeat: { type: 'string' },
    expiresAt: { type: 'string' },
    reputation: { type: 'number' },
    availability: { type: 'number' },
  },
} as const;

export const searchResponseSchema = {
  200: {
    type: 'object',
    properties: {
      success: { type: 'boolean' },
      agents: { type: 'array', items: agentRecordResponse },
      total: { type: 'integer' },
      nextCursor: { type: ['string', 'null'] },
    },
  },
} as const;
