import type { StandardSchemaV1 } from '@standard-schema/spec';
import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { ConfigError, MAX_AMOUNT, ValidationError, isAmount, type FieldProblem } from '@sov/core';
import type { DeadlineQueue } from '@sov/core/internal';
import type { ServiceDefinition, ServiceHandler } from '../serviceDefinition';
import type { JsonSchema } from '../serviceSchema';
import { BoundedCache } from './boundedCache';
import { compileSchema } from './schemaValidator';
import { catalogSchemaOf, isStandardSchema } from './standardSchema';
import type { ServiceStats } from './serviceStats';

/** A registered service with everything the request path needs, prepared once. */
export interface CompiledService {
  readonly name: string;
  readonly handler: ServiceHandler;
  readonly description: string;
  /** The JSON Schemas the catalog lists: the schemas themselves, or a Standard Schema's JSON Schema. */
  readonly inputSchema: JsonSchema | undefined;
  readonly outputSchema: JsonSchema | undefined;
  /** Ajv's check of a JSON Schema; undefined for a Standard Schema or none. */
  readonly validateInput: ValidateFunction | undefined;
  readonly validateOutput: ValidateFunction | undefined;
  /** A Standard Schema validator that runs instead of Ajv. */
  readonly standardInput: StandardSchemaV1 | undefined;
  readonly standardOutput: StandardSchemaV1 | undefined;
  readonly requiresStake: boolean;
  readonly minStake: number;
  readonly price: number | undefined;
  /** Infinity when off. */
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly stats: ServiceStats;
  readonly deadlines: DeadlineQueue;
  /** Undefined for a service that is not cacheable. */
  readonly cache: ServiceCache | undefined;
}

/** A cacheable service's terms and its answers. */
export interface ServiceCache {
  readonly ttlMs: number;
  readonly perCaller: boolean;
  readonly answers: BoundedCache;
}

/** The largest TTL: what a 32-bit timer holds, so no clock arithmetic overflows into "forever". */
const MAX_TTL_MS = 2 ** 31 - 1;
const CACHE_KEYS = new Set(['ttlMs', 'perCaller', 'maxEntries', 'maxBytes']);
const JSON_SCHEMA_KEYS = new Set(['input', 'output']);
const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

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
  const standardInput = isStandardSchema(d.inputSchema) ? d.inputSchema : undefined;
  const standardOutput = isStandardSchema(d.outputSchema) ? d.outputSchema : undefined;
  const given = catalogSchemasOf(d.jsonSchema, problems);
  const inputJson = catalogSchema(standardInput, given?.input, 'input', problems);
  const outputJson = catalogSchema(standardOutput, given?.output, 'output', problems);
  if (problems.length > 0) throw new ValidationError(what, problems);

  const name = d.name!;
  const cache = d.cache === undefined ? undefined : compileCache(d.cache, name);
  const jsonInput = standardInput === undefined ? (d.inputSchema as JsonSchema | undefined) : undefined;
  const jsonOutput = standardOutput === undefined ? (d.outputSchema as JsonSchema | undefined) : undefined;
  const validateInput = jsonInput === undefined ? undefined : compileSchema(ajv, jsonInput, `inputSchema of service "${name}"`);
  const validateOutput = jsonOutput === undefined ? undefined : compileSchema(ajv, jsonOutput, `outputSchema of service "${name}"`);
  const minStake = d.minStake ?? 0;
  const timeoutMs = d.timeoutMs ?? defaults.timeoutMs;
  return {
    name,
    handler: d.handler as ServiceHandler,
    description: d.description ?? '',
    inputSchema: jsonInput ?? inputJson,
    outputSchema: jsonOutput ?? outputJson,
    validateInput,
    validateOutput,
    standardInput,
    standardOutput,
    requiresStake: d.requiresStake ?? minStake > 0,
    minStake,
    price: d.price,
    timeoutMs: timeoutMs === 0 ? Infinity : timeoutMs,
    maxConcurrency: d.maxConcurrency ?? defaults.maxConcurrency,
    stats: parts.stats(name),
    deadlines: parts.deadlines(),
    cache,
  };
}

/** The definition's `jsonSchema` (the catalog's JSON Schemas for Standard Schema validators), checked. */
function catalogSchemasOf(value: unknown, problems: FieldProblem[]): { input?: unknown; output?: unknown } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ path: '/jsonSchema', message: 'must be an object { input?, output? } of JSON Schemas' });
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!JSON_SCHEMA_KEYS.has(key)) problems.push({ path: `/jsonSchema/${key}`, message: 'is not allowed (input, output)' });
  }
  return value;
}

/**
 * The catalog's JSON Schema for one side of a Standard Schema service (see
 * catalogSchemaOf); a `jsonSchema` given for a side whose schema is a JSON
 * Schema (listed as it is) is refused, since it would be ignored.
 */
function catalogSchema(standard: StandardSchemaV1 | undefined, given: unknown, side: 'input' | 'output', problems: FieldProblem[]): JsonSchema | undefined {
  const path = `/jsonSchema/${side}`;
  if (standard !== undefined) return catalogSchemaOf(standard, given, path, problems);
  if (given !== undefined) problems.push({ path, message: `is only for a Standard Schema ${side}Schema: a JSON Schema is listed as it is` });
  return undefined;
}

/** A bad value as an error message shows it. */
function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return typeof value;
  }
}

const positiveInteger = (v: unknown, max: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max;

/**
 * Checks a service's cache terms. A bad one is a configuration mistake, not
 * bad input: a ConfigError (INVALID_CONFIG) naming the field, and every
 * problem of the terms in its message.
 */
function compileCache(options: unknown, service: string): ServiceCache {
  const field = (key: string) => `services.${service}.cache${key ? `.${key}` : ''}`;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(field(''), 'must be an object { ttlMs, perCaller?, maxEntries?, maxBytes? }');
  }
  const o = options as Record<string, unknown>;
  const problems: Array<[string, string]> = [];
  for (const key of Object.keys(o)) {
    if (!CACHE_KEYS.has(key)) problems.push([key, 'is not a cache option (ttlMs, perCaller, maxEntries, maxBytes)']);
  }
  if (!positiveInteger(o.ttlMs, MAX_TTL_MS)) problems.push(['ttlMs', `must be a whole number of ms from 1 to ${MAX_TTL_MS}, got ${shown(o.ttlMs)}`]);
  if (o.perCaller !== undefined && typeof o.perCaller !== 'boolean') problems.push(['perCaller', `must be a boolean, got ${shown(o.perCaller)}`]);
  if (o.maxEntries !== undefined && !positiveInteger(o.maxEntries, Number.MAX_SAFE_INTEGER)) {
    problems.push(['maxEntries', `must be a whole number >= 1, got ${shown(o.maxEntries)}`]);
  }
  if (o.maxBytes !== undefined && !positiveInteger(o.maxBytes, Number.MAX_SAFE_INTEGER)) {
    problems.push(['maxBytes', `must be a whole number of bytes >= 1, got ${shown(o.maxBytes)}`]);
  }
  const first = problems[0];
  if (first !== undefined) {
    const rest = problems.slice(1).map(([k, m]) => `; ${field(k)} ${m}`).join('');
    throw new ConfigError(field(first[0]), `${first[1]}${rest}`);
  }
  return {
    ttlMs: o.ttlMs as number,
    perCaller: o.perCaller === true,
    answers: new BoundedCache((o.maxEntries as number | undefined) ?? DEFAULT_MAX_ENTRIES, (o.maxBytes as number | undefined) ?? DEFAULT_MAX_BYTES),
  };
}
