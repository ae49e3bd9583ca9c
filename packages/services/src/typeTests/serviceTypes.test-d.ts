/**
 * Type tests, compiled by `pnpm typecheck` (tsc -p tsconfig.json) and never
 * run: each `@ts-expect-error` is a mismatch that must not compile (tsc
 * fails on one that compiles), each `expectType` an inferred type that must
 * be exactly what the schema says.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Agent, CallOutcome } from '@sov/core';
import { z } from 'zod';
import {
  ServiceRouter,
  defineService,
  serviceClient,
  type InferSchemaInput,
  type InferSchemaOutput,
  type ServiceDefinition,
  type ServiceParams,
  type ServiceResult,
} from '../index';

/** True only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
/** Compiles only when T is `true`. */
function expectType<T extends true>(): T | undefined {
  return undefined;
}
/** `expectTypeOf(value).toBe<T>()` compiles only when the value's type is exactly T. */
function expectTypeOf<T>(_value: T): { toBe<U>(...proof: Equal<T, U> extends true ? [] : ['the types differ']): void } {
  return { toBe: () => undefined };
}
/** Takes any value: for expressions that only need to compile, or not. */
function use(_value: unknown): void {}

declare const agent: Agent;
const router = new ServiceRouter();

/** A tiny hand-written Standard Schema: takes a string, gives its length. */
declare const lengthOf: StandardSchemaV1<string, number>;
/** A hand-written Standard Schema of an object, with different input and output types. */
declare const dated: StandardSchemaV1<{ at: string }, { at: Date }>;

const wordsIn = {
  type: 'object',
  properties: { text: { type: 'string' }, lang: { enum: ['en', 'fr'] }, max: { type: 'integer', default: 10 } },
  required: ['text'],
  additionalProperties: false,
} as const;
const wordsOut = {
  type: 'object',
  properties: { words: { type: 'array', items: { type: 'string' } } },
  required: ['words'],
  additionalProperties: false,
} as const;

// ---- JSON Schema written as const: the handler is typed from it.

type WordsParams = { text: string; lang?: 'en' | 'fr'; max?: number };
expectType<Equal<InferSchemaInput<typeof wordsIn>, WordsParams>>();
expectType<Equal<InferSchemaOutput<typeof wordsOut>, { words: string[] }>>();

router.register({
  name: 'words',
  inputSchema: wordsIn,
  outputSchema: wordsOut,
  handler: (params) => {
    expectType<Equal<typeof params, WordsParams>>();
    return { words: params.text.split(' ') };
  },
});

router.register({
  name: 'words_wrong_param',
  inputSchema: wordsIn,
  // @ts-expect-error the schema says text is a string: a handler typed { text: number } does not compile
  handler: async (params: { text: number }) => params.text,
});

router.register({
  name: 'words_wrong_result',
  outputSchema: wordsOut,
  // @ts-expect-error the output schema says words is an array of strings
  handler: async () => ({ words: 'one two' }),
});

router.register({
  name: 'words_missing_result',
  outputSchema: wordsOut,
  // @ts-expect-error words is required by the output schema
  handler: () => ({}),
});

router.register({
  name: 'words_unknown_field',
  inputSchema: wordsIn,
  handler: (params) => {
    // @ts-expect-error additionalProperties: false, so the params have no other field
    use(params.other);
    return params.text;
  },
});

// The guide's name, registerService, is typed the same.
router.registerService({
  name: 'words_guide',
  inputSchema: wordsIn,
  // @ts-expect-error the schema says text is a string
  handler: (params: { text: boolean }) => params.text,
});

// A handler that names its params by a type the schema agrees with compiles.
router.register({ name: 'words_annotated', inputSchema: wordsIn, handler: ({ text }: { text: string }) => text.length });

// ---- Existing code keeps compiling.

// A schema not written as const tells nothing: params are unknown.
router.register({
  name: 'untyped',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  handler: (params) => {
    expectType<Equal<typeof params, unknown>>();
    return params;
  },
});
// No schema at all: unknown too.
router.register({ name: 'none', handler: (params) => expectTypeOf(params).toBe<unknown>() });
// Type arguments still set the handler's types.
router.register<{ text: string }, { words: number }>({
  name: 'explicit',
  inputSchema: { type: 'object' },
  handler: ({ text }) => ({ words: text.length }),
});
router.register<{ text: string }, { words: number }>({
  name: 'explicit_wrong',
  // @ts-expect-error the handler must return what the type argument says
  handler: () => ({ words: 'many' }),
});
// A handler annotation sets them when the schema is not as const (the old way).
const legacy = {
  name: 'legacy',
  inputSchema: { type: 'object', properties: { n: { type: 'number' } } },
  handler: async ({ n }: { n: number }) => n * 2,
};
router.register(legacy).registerService(legacy);
// A ServiceDefinition typed by hand still registers.
const typed: ServiceDefinition<{ n: number }, number> = { name: 'typed', handler: ({ n }) => n };
router.register(typed);

// ---- Standard Schema: the handler gets the validator's output, returns what the output validator takes.

router.register({
  name: 'length',
  inputSchema: lengthOf,
  outputSchema: dated,
  handler: (params) => {
    expectType<Equal<typeof params, number>>();
    return { at: new Date(params).toISOString() };
  },
});
router.register({
  name: 'length_wrong',
  inputSchema: lengthOf,
  // @ts-expect-error the validator's output is a number, not a string
  handler: (params: string) => params,
});
router.register({
  name: 'dated_wrong_result',
  outputSchema: dated,
  // @ts-expect-error the output validator takes { at: string }
  handler: () => ({ at: new Date() }),
});
expectType<Equal<InferSchemaInput<typeof dated>, { at: string }>>();
expectType<Equal<InferSchemaOutput<typeof dated>, { at: Date }>>();

// zod implements Standard Schema: its own types come through, transforms included.
const zIn = z.object({ text: z.string(), times: z.number().int().default(1) });
const zOut = z.object({ text: z.string() }).transform((o) => ({ ...o, length: o.text.length }));
router.register({
  name: 'zod',
  inputSchema: zIn,
  outputSchema: zOut,
  handler: (params) => {
    expectType<Equal<typeof params, { text: string; times: number }>>();
    return { text: params.text.repeat(params.times) };
  },
});
router.register({
  name: 'zod_wrong',
  inputSchema: zIn,
  // @ts-expect-error zod says text is a string
  handler: (params: { text: boolean }) => params,
});

// ---- Contracts and the typed client.

const translate = defineService({
  name: 'translate',
  inputSchema: { type: 'object', properties: { text: { type: 'string' }, to: { enum: ['en', 'fr'] } }, required: ['text', 'to'] },
  outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
});
expectType<Equal<ServiceParams<typeof translate>, { text: string; to: 'en' | 'fr'; [x: string]: unknown }>>();
expectType<Equal<ServiceResult<typeof translate>, { text: string; [x: string]: unknown }>>();

// The callee registers the contract with a handler typed from it.
router.register({ ...translate, handler: ({ text, to }) => ({ text: `${to}:${text}` }) });
router.register({
  ...translate,
  // @ts-expect-error the contract's output needs text
  handler: () => ({ translated: 'x' }),
});

// The caller's client is typed from the same contract.
const client = serviceClient(agent, translate);
expectType<Equal<typeof client.service, string>>();
async function callers(): Promise<void> {
  expectTypeOf(await client.call('did:key:z6Mk...', { text: 'bonjour', to: 'en' })).toBe<{ text: string; [x: string]: unknown }>();
  expectTypeOf(await client.callDetailed({ capability: 'translate', maxPrice: 5 }, { text: 'hi', to: 'fr' }, { timeoutMs: 1000 })).toBe<CallOutcome<{ text: string; [x: string]: unknown }>>();

  // @ts-expect-error to must be 'en' or 'fr'
  await client.call('did:key:z6Mk...', { text: 'bonjour', to: 'de' });
  // @ts-expect-error text is required
  await client.call('did:key:z6Mk...', { to: 'en' });
  // @ts-expect-error params are required: the input schema does not accept undefined
  await client.call('did:key:z6Mk...');
  // @ts-expect-error the result has no field "words"
  use((await client.call('did:key:z6Mk...', { text: 'x', to: 'en' })).words.length);

  // A Standard Schema contract: params are the validator's input, the result its output.
  const stamps = serviceClient(agent, { name: 'stamp', inputSchema: lengthOf, outputSchema: dated });
  expectTypeOf(await stamps.call('http://127.0.0.1:8080', 'some text')).toBe<{ at: Date }>();
  // @ts-expect-error the input validator takes a string
  await stamps.call('http://127.0.0.1:8080', 42);

  const zodClient = serviceClient(agent, { name: 'zod', inputSchema: zIn, outputSchema: zOut });
  // times has a default: optional for the caller, there for the handler.
  expectTypeOf(await zodClient.call('http://127.0.0.1:8080', { text: 'a' })).toBe<{ text: string; length: number }>();

  // A contract without schemas: params may be left out, the result is unknown.
  const loose = serviceClient(agent, { name: 'ping' });
  expectTypeOf(await loose.call('http://127.0.0.1:8080')).toBe<unknown>();

  // A client from a full definition (the callee's own) works the same.
  const fromDefinition = serviceClient(agent, { name: 'words', inputSchema: wordsIn, outputSchema: wordsOut, handler: () => ({ words: [] }) });
  expectTypeOf(await fromDefinition.call('http://127.0.0.1:8080', { text: 'a b' })).toBe<{ words: string[] }>();
}
void callers;
