import type { ServiceDefinition } from '@sov/services';

/** The algorithms `process` knows. */
export const ALGORITHMS = ['mean', 'sum', 'max'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** What both sides are called with: a data set and the algorithm to run over it. */
export interface ProcessParams {
  data: number[];
  algorithm: Algorithm;
}

/** What both sides answer. */
export interface ProcessResult {
  value: number;
  count: number;
}

/** The most numbers one call may carry (both schemas). */
export const MAX_ITEMS = 1000;

/** The work itself, the same function on both sides. */
export function runAlgorithm({ data, algorithm }: ProcessParams): ProcessResult {
  let value = algorithm === 'max' ? -Infinity : 0;
  for (const x of data) value = algorithm === 'max' ? Math.max(value, x) : value + x;
  return { value: algorithm === 'mean' ? value / data.length : value, count: data.length };
}

/** Our side: JSON Schemas for input and output, compiled by @sov/services' router. */
export const processService: ServiceDefinition<ProcessParams, ProcessResult> = {
  name: 'process',
  description: 'Runs an algorithm over a data set of numbers',
  inputSchema: {
    type: 'object',
    properties: {
      data: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: MAX_ITEMS },
      algorithm: { type: 'string', enum: [...ALGORITHMS] },
    },
    required: ['data', 'algorithm'],
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: { value: { type: 'number' }, count: { type: 'integer' } },
    required: ['value', 'count'],
  },
  handler: async (params) => runAlgorithm(params),
};

/** Moleculer's side: the same rules as a fastest-validator schema (`$$strict` refuses other keys, as additionalProperties: false does). */
export const moleculerParamsSchema = {
  $$strict: true,
  data: { type: 'array', items: 'number', min: 1, max: MAX_ITEMS },
  algorithm: { type: 'enum', values: [...ALGORITHMS] },
} as const;

/** The payload of every valid call: 100 numbers. */
export const validParams: ProcessParams = {
  data: Array.from({ length: 100 }, (_, i) => ((i * 37) % 101) + i / 100),
  algorithm: 'mean',
};

/** A payload both sides must refuse: a string among the numbers, an unknown algorithm, an extra key. */
export const invalidParams = {
  data: [...validParams.data.slice(0, 99), 'forty-two'],
  algorithm: 'median',
  extra: true,
};

/** The value a valid call must answer with. */
export const expectedValue = runAlgorithm(validParams).value;
