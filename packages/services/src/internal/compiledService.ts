import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { MAX_AMOUNT, ValidationError, isAmount, type DeadlineQueue, type FieldProblem } from '@sov/core';
import type { JsonSchema, ServiceDefinition, ServiceHandler } from '../serviceDefinition';
import { compileSchema } from './schemaValidator';
import type { ServiceStats } from './serviceStats';

/** A registered service with everything the request path needs, prepared once. */
export interface CompiledService {
  readonly name: string;
  readonly handler: ServiceHandler;
  readonly description: string;
  readonly inputSchema: JsonSchema | undefined;
  readonly outputSchema: JsonSchema | undefined;
  readonly validateInput: ValidateFunction | undefined;
  readonly validateOutput: ValidateFunction | undefined;
  readonly requiresStake: boolean;
  readonly minStake: number;
  readonly price: number | undefined;
  /** Infinity when off. */
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly stats: ServiceStats;
  readonly deadlines: DeadlineQueue;
}

const NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;

const nonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * Checks a definition field by field (every problem listed at once) and
 * compiles its schemas. Throws a ValidationError (INVALID_INPUT).
 */
export function compileService(
  definition: ServiceDefinition<never, unknown>,
  ajv: Ajv,
  defaults: { timeoutMs: number; maxConcurrency: number },
  parts: { stats: (name: string) => ServiceStats; deadlines: () => DeadlineQueue },
): CompiledService {
  const d = (definition ?? {}) as Partial<ServiceDefinition<never, unknown>>;
  const what = `service definition${typeof d.name === 'string' ? ` "${d.name}"` : ''}`;
  const problems: FieldProblem[] = [];
  if (typeof d.name !== 'string' || !NAME.test(d.name)) {
    problems.push({ path: '/name', message: 'must be 1 to 128 characters of A-Z a-z 0-9 _ . : / -' });
  }
  if (typeof d.handler !== 'function') problems.push({ path: '/handler', message: 'must be a function' });
  if (d.description !== undefined && typeof d.description !== 'string') problems.push({ path: '/description', message: 'must be a string' });
  // Amounts are whole minor units (see core's MAX_AMOUNT): a fraction would drift in every sum.
  if (d.minStake !== undefined && !isAmount(d.minStake)) problems.push({ path: '/minStake', message: `must be a whole number of minor units from 0 to ${MAX_AMOUNT}` });
  if (d.price !== undefined && !isAmount(d.price)) problems.push({ path: '/price', message: `must be a whole number of minor units from 0 to ${MAX_AMOUNT}` });
  if (d.requiresStake !== undefined && typeof d.requiresStake !== 'boolean') problems.push({ path: '/requiresStake', message: 'must be a boolean' });
  if (d.requiresStake === false && typeof d.minStake === 'number' && d.minStake > 0) {
    problems.push({ path: '/requiresStake', message: 'is false but minStake is above 0: set one or the other' });
  }
  if (d.timeoutMs !== undefined && !nonNegative(d.timeoutMs)) problems.push({ path: '/timeoutMs', message: 'must be a finite number >= 0 (0 turns it off)' });
  if (d.maxConcurrency !== undefined && !(Number.isInteger(d.maxConcurrency) && d.maxConcurrency >= 1)) {
    problems.push({ path: '/maxConcurrency', message: 'must be an integer >= 1' });
  }
  if (problems.length > 0) throw new ValidationError(what, problems);

  const name = d.name!;
  const validateInput = d.inputSchema === undefined ? undefined : compileSchema(ajv, d.inputSchema, `inputSchema of service "${name}"`);
  const validateOutput = d.outputSchema === undefined ? undefined : compileSchema(ajv, d.outputSchema, `outputSchema of service "${name}"`);
  const minStake = d.minStake ?? 0;
  const timeoutMs = d.timeoutMs ?? defaults.timeoutMs;
  return {
    name,
    handler: d.handler as ServiceHandler,
    description: d.description ?? '',
    inputSchema: d.inputSchema,
    outputSchema: d.outputSchema,
    validateInput,
    validateOutput,
    requiresStake: d.requiresStake ?? minStake > 0,
    minStake,
    price: d.price,
    timeoutMs: timeoutMs === 0 ? Infinity : timeoutMs,
    maxConcurrency: d.maxConcurrency ?? defaults.maxConcurrency,
    stats: parts.stats(name),
    deadlines: parts.deadlines(),
  };
}
