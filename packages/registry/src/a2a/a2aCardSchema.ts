/** The JSON Schemas of the A2A directory: a registration, and the part of an A2A v1.0 agent card it reads. */

/** An agent card as the directory keeps it: the fields it checks, the rest as the agent served them. */
export interface DirectoryCard {
  name: string;
  description?: string;
  supportedInterfaces: Array<{ url: string; protocolBinding: string; protocolVersion?: string }>;
  capabilities?: { streaming?: boolean; extensions?: Array<{ uri: string; params?: unknown }> };
  skills: Array<{ id: string; name: string; description?: string; tags?: string[] }>;
  [field: string]: unknown;
}

export const a2aRegistrationSchema = {
  type: 'object',
  properties: {
    cardUrl: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' },
    ttl: { type: 'integer', minimum: 1, maximum: 86400 },
  },
  required: ['cardUrl'],
  additionalProperties: false,
} as const;

const text = (max: number) => ({ type: 'string', maxLength: max }) as const;

export const agentCardSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: text(4096),
    supportedInterfaces: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        properties: { url: { type: 'string', maxLength: 2048, pattern: '^https?://' }, protocolBinding: text(32), protocolVersion: text(16) },
        required: ['url', 'protocolBinding'],
      },
    },
    capabilities: {
      type: 'object',
      properties: {
        streaming: { type: 'boolean' },
        extensions: { type: 'array', maxItems: 32, items: { type: 'object', properties: { uri: text(512) }, required: ['uri'] } },
      },
    },
    skills: {
      type: 'array',
      maxItems: 128,
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 128 },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          description: text(4096),
          tags: { type: 'array', maxItems: 64, items: text(128) },
        },
        required: ['id', 'name'],
      },
    },
  },
  required: ['name', 'supportedInterfaces', 'skills'],
} as const;
