/** The router's test fixtures, also used by the services benchmark (bench/); not published. */
import type { WireFailure } from '@sov/core';
import type { ServiceDefinition } from '../serviceDefinition';
import type { ServiceResponse } from '../serviceRouter';

/** The guide's process_data service: a data set of numbers and an algorithm, JSON Schemas for both sides. */
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

/** The error of a failed reply; throws on a success. */
export function failure(reply: ServiceResponse): WireFailure['error'] {
  if (reply.success) throw new Error(`expected a failure, got ${JSON.stringify(reply)}`);
  return reply.error;
}

/** The context of a call from the verified caller `id`. */
export const caller = (id: string) => ({ caller: { id, keyId: id } });
