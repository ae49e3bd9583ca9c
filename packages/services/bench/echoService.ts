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

/** The guide's process_data service: a data set of numbers and an algorithm. */
export const processDataService: ServiceDefinition<{ data: number[]; algorithm: 'mean' | 'max' }, { result: { value: number }; confidence: number }> = {
  name: 'process_data',
  description: 'Process and analyze data sets',
  inputSchema: {
    type: 'object',
    properties: {
      data: { type: 'array', items: { type: 'number' }, maxItems: 10000 },
      algorithm: { type: 'string', enum: ['mean', 'max'] },
    },
    required: ['data', 'algorithm'],
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: { result: { type: 'object', properties: { value: { type: 'number' } }, required: ['value'] }, confidence: { type: 'number' } },
    required: ['result', 'confidence'],
  },
  handler: async ({ data, algorithm }) => {
    let value = algorithm === 'max' ? -Infinity : 0;
    for (const x of data) value = algorithm === 'max' ? Math.max(value, x) : value + x;
    return { result: { value: algorithm === 'max' ? value : value / data.length }, confidence: 0.9 };
  },
};
