import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** A JSON Schema (draft 7 / 2019-09 keywords, as Ajv reads them): an object, or `true` / `false`. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/**
 * What a service's `inputSchema` or `outputSchema` may be: a JSON Schema
 * (checked by the router's Ajv), or a Standard Schema validator (zod,
 * valibot, arktype ...: its `~standard.validate` runs instead of Ajv).
 */
export type ServiceSchema = JsonSchema | StandardSchemaV1;

/**
 * The values a JSON Schema written `as const` describes, as json-schema-to-ts
 * reads it. A property with a `default` stays optional: the router's Ajv
 * does not fill defaults in.
 */
type FromJsonSchema<S extends JSONSchema> = FromSchema<S, { keepDefaultedPropertiesOptional: true }>;

/**
 * The type of the values a schema accepts: what a caller sends to an input
 * schema, what a handler returns to an output schema. `unknown` for no
 * schema, and for a JSON Schema that is not written `as const` (its
 * keywords widened to `string`, nothing can be inferred).
 *
 * @example
 * type P = InferSchemaInput<typeof schema>; // schema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as const
 * // P = { text: string; [x: string]: unknown }
 */
export type InferSchemaInput<S> = [S] extends [StandardSchemaV1]
  ? StandardSchemaV1.InferInput<S>
  : [S] extends [JSONSchema]
    ? FromJsonSchema<S>
    : unknown;

/**
 * The type of a value once a schema has validated it: the params a handler
 * gets from its input schema, the result a typed client gets from the output
 * schema. The same as InferSchemaInput for a JSON Schema (Ajv neither
 * coerces nor fills in); a Standard Schema's `InferOutput` (its transforms
 * applied) for a validator.
 */
export type InferSchemaOutput<S> = [S] extends [StandardSchemaV1]
  ? StandardSchemaV1.InferOutput<S>
  : [S] extends [JSONSchema]
    ? FromJsonSchema<S>
    : unknown;

/**
 * The JSON Schemas the catalog (and the agent card) lists for a service
 * whose schemas are Standard Schema validators. Each is the wire form: what
 * a caller sends, what the handler returns.
 */
export interface CatalogJsonSchemas {
  /** Listed as the catalog's `inputSchema`. @default the validator's own export (`~standard.jsonSchema.input`) */
  readonly input?: JsonSchema;
  /** Listed as the catalog's `outputSchema`. @default the validator's own export (`~standard.jsonSchema.input`) */
  readonly output?: JsonSchema;
}

/**
 * What a caller needs to know of a service: its name and schemas. Share it
 * between the agent that serves the service (`register({ ...contract,
 * handler })`) and the ones that call it (`serviceClient(agent, contract)`),
 * so both are typed from the same schemas.
 */
export interface ServiceContract {
  readonly name: string;
  readonly inputSchema?: ServiceSchema;
  readonly outputSchema?: ServiceSchema;
  readonly jsonSchema?: CatalogJsonSchemas;
}

/** The params a caller of the service sends: its input schema's input type. */
export type ServiceParams<C extends ServiceContract> = C extends { readonly inputSchema?: infer S } ? InferSchemaInput<Exclude<S, undefined>> : unknown;

/** The result a typed client of the service resolves to: its output schema's output type. */
export type ServiceResult<C extends ServiceContract> = C extends { readonly outputSchema?: infer S } ? InferSchemaOutput<Exclude<S, undefined>> : unknown;

/**
 * Declares a service's contract (name and schemas), with its schemas read
 * as written (no `as const` needed): share it between the callee, which
 * registers it with a handler, and the callers, which make a typed client of
 * it. Returns the contract as given; nothing is checked until `register`.
 *
 * @example
 * export const translate = defineService({
 *   name: 'translate',
 *   inputSchema: { type: 'object', properties: { text: { type: 'string' }, to: { enum: ['en', 'fr'] } }, required: ['text', 'to'] },
 *   outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
 * });
 * router.register({ ...translate, handler: async ({ text, to }) => ({ text: await translateText(text, to) }) });
 * const { text } = await serviceClient(caller, translate).call(peerUrl, { text: 'bonjour', to: 'en' });
 */
export function defineService<const C extends ServiceContract>(contract: C): C {
  return contract;
}
