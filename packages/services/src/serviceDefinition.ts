import type { Logger, VerifiedCaller } from '@sov/core';
import type { CatalogJsonSchemas, InferSchemaInput, InferSchemaOutput, ServiceSchema } from './serviceSchema';

/** What a service handler knows about the call it serves. */
export interface ServiceContext {
  /** The service being called. */
  readonly service: string;
  /** The request id (from the endpoint, or made up for a call outside one). */
  readonly requestId: string;
  /** The verified caller; undefined for an anonymous call. */
  readonly caller: VerifiedCaller | undefined;
  /**
   * Aborted when the service's timeout passes, the caller goes away or the
   * agent shuts down: pass it to fetch, timers and child calls. The reason
   * is a SovError (TIMEOUT, UNAVAILABLE, SHUTTING_DOWN).
   */
  readonly signal: AbortSignal;
  /** A logger whose lines carry the request id. */
  readonly logger: Logger;
}

/**
 * A service's code: takes the validated params, returns (or resolves to) the
 * result, which is checked against the output schema. Throw a SovError to
 * answer with its code; anything else thrown becomes HANDLER_FAILED.
 */
export type ServiceHandler<TParams = unknown, TResult = unknown> = (
  params: TParams,
  context: ServiceContext,
) => Promise<TResult> | TResult;

/**
 * The params type `register` gives a handler: what the input schema yields
 * after validation when that is known (a schema written `as const`, a
 * Standard Schema validator), else `TParams` (a type argument, or the
 * handler's own annotation, or `unknown`).
 */
export type HandlerParams<TParams, TInput> = unknown extends InferSchemaOutput<TInput> ? TParams : InferSchemaOutput<TInput>;

/**
 * The result type `register` expects of a handler: what the output schema
 * accepts when that is known, else `TResult`.
 */
export type HandlerResult<TResult, TOutput> = unknown extends InferSchemaInput<TOutput> ? TResult : InferSchemaInput<TOutput>;

/**
 * Lets callers and the router reuse a service's answers: for the same
 * params (and, with `perCaller`, the same verified caller) the router
 * answers from its cache without running the handler while the answer is
 * fresh, and tells the caller the terms (`cache: { ttlMs, scope }` in the
 * reply), so a caller's `callCache()` reuses it without a round trip. Only
 * successful answers are kept. Declare it only for answers that depend on
 * nothing but the params (and the caller, with `perCaller`).
 *
 * @example
 * router.register({ name: 'quote', cache: { ttlMs: 60_000 }, handler: async ({ symbol }) => lookUp(symbol) });
 * router.register({ name: 'my_balance', cache: { ttlMs: 5_000, perCaller: true }, handler: async (_p, { caller }) => balanceOf(caller!.id) });
 */
export interface ServiceCacheOptions {
  /** How long an answer stays fresh, in ms: a whole number from 1 to 2^31 − 1 (about 24.8 days). */
  ttlMs: number;
  /**
   * The answer depends on who calls: answers are kept per verified caller and
   * never given to another, and an anonymous caller's answers are not cached at all.
   * @default false (one answer for every caller)
   */
  perCaller?: boolean;
  /** Most answers the router keeps for this service; the least recently used goes first. @default 1000 */
  maxEntries?: number;
  /** Most bytes the router keeps for this service: keys (9 bytes a number and 2 a character of the params) and answers' JSON (UTF-8). @default 8 MiB */
  maxBytes?: number;
}

/**
 * The cache terms a router sends with an answer of a cacheable service (the
 * reply's `cache` field): how much longer the answer is fresh, and whether it
 * may be given to other callers (`shared`) or only to the one that asked (`caller`).
 */
export interface CacheTerms {
  /** Ms the answer stays fresh from now: the whole TTL for a new answer, what is left of it for one served from the router's cache. */
  ttlMs: number;
  scope: 'caller' | 'shared';
}

/**
 * A service an agent offers: the guide's `ServiceDefinition`, plus its price,
 * time budget and concurrency limit. `TInput` and `TOutput` are the types of
 * its schemas: `router.register` infers the handler's params and result from
 * them (see InferSchemaOutput, InferSchemaInput) when they are written
 * `as const` or are Standard Schema validators.
 *
 * @example
 * router.register({
 *   name: 'process_data',
 *   description: 'Process and analyze data sets',
 *   inputSchema: { type: 'object', properties: { data: { type: 'array', items: { type: 'number' } }, algorithm: { type: 'string' } }, required: ['data', 'algorithm'] } as const,
 *   outputSchema: { type: 'object', properties: { result: { type: 'number' }, confidence: { type: 'number' } }, required: ['result', 'confidence'] } as const,
 *   requiresStake: true,
 *   minStake: 100,
 *   price: 2,
 *   handler: async ({ data, algorithm }, { signal }) => analyse(data, algorithm, signal), // data: number[], algorithm: string
 * });
 */
export interface ServiceDefinition<
  TParams = unknown,
  TResult = unknown,
  TInput extends ServiceSchema = ServiceSchema,
  TOutput extends ServiceSchema = ServiceSchema,
> {
  /** Unique within the router: 1 to 128 of `A-Z a-z 0-9 _ . : / -`. */
  name: string;
  handler: ServiceHandler<TParams, TResult>;
  /** Shown in the catalog and the registry record (first 1024 characters). @default '' */
  description?: string;
  /**
   * Params are checked against it before the handler runs: a JSON Schema
   * (Ajv), or a Standard Schema validator, whose `~standard.validate` runs
   * instead and whose output (transforms applied) is what the handler gets.
   * @default no check
   */
  inputSchema?: TInput;
  /**
   * The handler's result is checked against it before it is sent: a JSON
   * Schema or a Standard Schema validator. What is sent is the handler's
   * result as returned (the wire form, the validator's input side); a typed
   * client (`serviceClient`) validates it again and gets the output side.
   * @default no check
   */
  outputSchema?: TOutput;
  /**
   * For Standard Schema validators: the JSON Schemas the catalog lists. A
   * validator that exports its own JSON Schema (Standard JSON Schema,
   * `~standard.jsonSchema`, as zod 4 does) needs none; any other needs one
   * here, or `register` refuses it (INVALID_INPUT at `/jsonSchema/input` or
   * `/jsonSchema/output`). Each is the wire form: the validator's input
   * side. Not for a JSON Schema side (listed as it is).
   * @default the validators' own export of their input side, for draft-07
   */
  jsonSchema?: CatalogJsonSchemas;
  /**
   * Only verified callers whose registry stake is at least `minStake` may call.
   * @default true when minStake > 0, else false
   */
  requiresStake?: boolean;
  /** Stake the caller must hold, in stake units. @default 0 */
  minStake?: number;
  /** Price per call in stake units, published in the registry record (search filters on it). @default not published */
  price?: number;
  /** Time budget of one call, in ms; then the handler's signal aborts and the caller gets TIMEOUT. 0 turns it off. @default the router's defaultTimeoutMs */
  timeoutMs?: number;
  /** Calls served at once; more get TOO_MANY_IN_FLIGHT. @default the router's defaultMaxConcurrency */
  maxConcurrency?: number;
  /** Answers are reused while fresh, by the router and by callers (see ServiceCacheOptions). @default not cached */
  cache?: ServiceCacheOptions;
}
