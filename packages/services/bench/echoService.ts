import type { ServiceDefinition } from '@sov/services';

/** The service every figure calls: a small validated echo, as most services are small. */
export const echoService: ServiceDefinition<{ text: string; tags?: string[] }, { text: string }> = {
  name: 'echo',
  description: 'Echoes the text',
  inputSchema: {
    type: 'object',
    properties: {
      text: { type: 'string', maxLength: 1000 },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 10 },
    },
    required: ['text'],
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: { text: { type: 'string' } },
    required: ['text'],
  },
  handler: async ({ text }) => ({ text }),
};
