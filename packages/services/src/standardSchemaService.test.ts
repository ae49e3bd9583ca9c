import type { StandardSchemaV1 } from '@standard-schema/spec';
import { createLogger, isValidationError, type WireFailure } from '@sov/core';
import { z } from 'zod';
import { ServiceRouter, type ServiceResponse } from './serviceRouter';

function failure(reply: ServiceResponse): WireFailure['error'] {
  if (reply.success) throw new Error(`expected a failure, got ${JSON.stringify(reply)}`);
  return reply.error;
}

/** A hand-written Standard Schema (no JSON Schema export): a string of at least `min` characters, trimmed. */
function trimmedText(min: number, options: { async?: boolean; asFunction?: boolean } = {}): StandardSchemaV1<string, string> {
  const validate = (value: unknown): StandardSchemaV1.Result<string> => {
    if (typeof value !== 'string') return { issues: [{ message: 'must be a string' }] };
    const text = value.trim();
    return text.length >= min ? { value: text } : { issues: [{ message: `must have at least ${min} characters`, path: [] }] };
  };
  const props: StandardSchemaV1.Props<string, string> = {
    version: 1,
    vendor: 'hand',
    validate: options.async ? async (value) => validate(value) : validate,
  };
  // arktype's validators are functions carrying `~standard`: the router must take one for a validator, not a JSON Schema.
  if (options.asFunction) return Object.assign(() => undefined, { '~standard': props });
  return { '~standard': props };
}

const catalogOf = (router: ServiceRouter, name: string) => router.getServiceCatalog().find((e) => e.name === name);

describe('ServiceRouter with Standard Schema validators (zod)', () => {
  const input = z.object({ text: z.string().min(1), times: z.number().int().min(1).default(1), tags: z.array(z.string()).optional() });
  const output = z.object({ text: z.string() });

  it('refuses bad params with INVALID_INPUT naming every bad field, and never runs the handler', async () => {
    const handler = jest.fn((p: { text: string; times: number }) => ({ text: p.text.repeat(p.times) }));
    const router = new ServiceRouter().register({ name: 'echo', inputSchema: input, outputSchema: output, handler });
    const error = failure(await router.handleRequest({ service: 'echo', params: { text: 5, times: 0, tags: ['a', 7] } }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.details).toEqual([
      { path: '/text', message: expect.stringContaining('expected string') as string },
      { path: '/times', message: expect.stringContaining('>=1') as string },
      { path: '/tags/1', message: expect.stringContaining('expected string') as string },
    ]);
    expect(error.message).toMatch(/^Invalid input of service "echo": \/text .+; \/times .+; \/tags\/1 /);
    expect(handler).not.toHaveBeenCalled();
    // execute (the /rpc path) throws the same refusal as a ValidationError.
    const thrown = await router.execute({ service: 'echo', params: {} }).catch((e: unknown) => e);
    expect(isValidationError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: 'INVALID_INPUT', problems: [{ path: '/text', message: expect.any(String) as string }] });
  });

  it("hands the handler the validator's output (defaults and transforms applied)", async () => {
    const seen: unknown[] = [];
    const router = new ServiceRouter().register({
      name: 'echo',
      inputSchema: input,
      handler: (params) => {
        seen.push(params);
        return { text: params.text.repeat(params.times) };
      },
    });
    await expect(router.handleRequest({ service: 'echo', params: { text: 'ab' } })).resolves.toMatchObject({ success: true, result: { text: 'ab' } });
    expect(seen).toEqual([{ text: 'ab', times: 1 }]);
  });

  it('answers OUTPUT_INVALID, naming the field, when the result breaks the output validator', async () => {
    const errors: unknown[] = [];
    const logger = createLogger({ silent: true });
    logger.error = (message: string, meta?: unknown) => {
      errors.push({ message, meta });
    };
    const router = new ServiceRouter({ logger }).register({ name: 'broken', outputSchema: output, handler: () => ({ text: 42 }) as never });
    const error = failure(await router.handleRequest({ service: 'broken' }));
    expect(error.code).toBe('OUTPUT_INVALID');
    expect(error.details).toEqual([{ path: '/text', message: expect.stringContaining('expected string') as string }]);
    expect(error.message).toMatch(/^Service "broken" answered with output that breaks its schema: \/text /);
    expect(errors).toEqual([{ message: 'service output breaks its schema', meta: expect.objectContaining({ service: 'broken' }) }]);
  });

  it('sends the result as the handler returned it (the wire form); the output validator only checks it', async () => {
    const stamped = z.object({ at: z.string() }).transform((o) => ({ at: new Date(o.at) }));
    const router = new ServiceRouter().register({ name: 'stamp', outputSchema: stamped, handler: () => ({ at: '2026-01-02T03:04:05.000Z' }) });
    await expect(router.handleRequest({ service: 'stamp' })).resolves.toMatchObject({ success: true, result: { at: '2026-01-02T03:04:05.000Z' } });
  });

  it("lists zod's own JSON Schema (its input side, draft-07) in the catalog", () => {
    const router = new ServiceRouter().register({ name: 'echo', inputSchema: input, outputSchema: output, handler: (p) => ({ text: p.text }) });
    expect(catalogOf(router, 'echo')).toMatchObject({
      inputSchema: {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: { text: { type: 'string', minLength: 1 }, times: { type: 'integer', default: 1 } },
        required: ['text'],
      },
      outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    });
  });

  it('lists the JSON Schemas given in jsonSchema instead of the export', () => {
    const listed = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as const;
    const router = new ServiceRouter().register({ name: 'echo', inputSchema: input, jsonSchema: { input: listed }, handler: (p) => p.text });
    expect(catalogOf(router, 'echo')?.inputSchema).toBe(listed);
  });
});

describe('ServiceRouter with hand-written Standard Schema validators', () => {
  it('refuses one without a JSON Schema for the catalog, naming the field, and registers nothing', () => {
    const router = new ServiceRouter();
    const register = () => router.register({ name: 'note', inputSchema: trimmedText(3), outputSchema: trimmedText(1), handler: (t) => t });
    expect(register).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        details: [
          { path: '/jsonSchema/input', message: 'is required: the hand validator exports no JSON Schema (~standard.jsonSchema), and the catalog lists one' },
          { path: '/jsonSchema/output', message: 'is required: the hand validator exports no JSON Schema (~standard.jsonSchema), and the catalog lists one' },
        ],
      }),
    );
    expect(router.services).toEqual([]);
  });

  it.each([
    ['a jsonSchema that is not an object', { jsonSchema: 'string' }, [{ path: '/jsonSchema', message: 'must be an object { input?, output? } of JSON Schemas' }]],
    ['an unknown jsonSchema key', { inputSchema: trimmedText(1), jsonSchema: { input: { type: 'string' }, inputs: {} } }, [{ path: '/jsonSchema/inputs', message: 'is not allowed (input, output)' }]],
    ['a jsonSchema.input that is not a schema', { inputSchema: trimmedText(1), jsonSchema: { input: [1] } }, [{ path: '/jsonSchema/input', message: 'must be a JSON Schema (an object or a boolean)' }]],
    [
      'a jsonSchema for a JSON Schema side',
      { inputSchema: { type: 'string' }, jsonSchema: { input: { type: 'string' } } },
      [{ path: '/jsonSchema/input', message: 'is only for a Standard Schema inputSchema: a JSON Schema is listed as it is' }],
    ],
  ])('refuses %s with INVALID_INPUT', (_what, fields, details) => {
    const router = new ServiceRouter();
    expect(() => router.register({ name: 'note', handler: (t: unknown) => t, ...(fields as object) })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details }));
    expect(router.services).toEqual([]);
  });

  it('refuses a validator whose JSON Schema export throws, with its message', () => {
    const schema = {
      '~standard': { ...trimmedText(1)['~standard'], jsonSchema: { input: () => { throw new Error('target draft-07 is not supported'); }, output: () => ({}) } },
    };
    expect(() => new ServiceRouter().register({ name: 'note', inputSchema: schema, handler: (t) => t })).toThrow(
      expect.objectContaining({
        details: [{ path: '/jsonSchema/input', message: 'is required: the hand validator could not export its JSON Schema (target draft-07 is not supported)' }],
      }),
    );
  });

  it.each([
    ['sync', {}],
    ['async', { async: true }],
    ['function (as arktype makes them)', { asFunction: true }],
  ])('runs a %s validator: its output reaches the handler, its refusal is INVALID_INPUT at the path it names', async (_kind, options) => {
    const router = new ServiceRouter().register({
      name: 'note',
      inputSchema: trimmedText(3, options),
      jsonSchema: { input: { type: 'string', minLength: 3 } },
      handler: (text) => `[${text}]`,
    });
    await expect(router.handleRequest({ service: 'note', params: '  abc  ' })).resolves.toMatchObject({ success: true, result: '[abc]' });
    expect(failure(await router.handleRequest({ service: 'note', params: ' a ' }))).toEqual({
      code: 'INVALID_INPUT',
      message: 'Invalid input of service "note": / must have at least 3 characters',
      details: [{ path: '/', message: 'must have at least 3 characters' }],
    });
    expect(catalogOf(router, 'note')?.inputSchema).toEqual({ type: 'string', minLength: 3 });
  });

  it('names nested fields by JSON pointer, path segments and escapes included', async () => {
    const schema: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'hand',
        validate: () => ({ issues: [{ message: 'bad', path: ['items', 0, { key: 'a/b~c' }] }, { message: 'worse' }] }),
      },
    };
    const router = new ServiceRouter().register({ name: 'deep', inputSchema: schema, jsonSchema: { input: true }, handler: () => 'never' });
    expect(failure(await router.handleRequest({ service: 'deep', params: {} })).details).toEqual([
      { path: '/items/0/a~1b~0c', message: 'bad' },
      { path: '/', message: 'worse' },
    ]);
  });

  it('lists at most 50 problems, then how many more', async () => {
    const issues = Array.from({ length: 60 }, (_, i) => ({ message: 'bad', path: [i] }));
    const schema: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'hand', validate: () => ({ issues }) } };
    const router = new ServiceRouter().register({ name: 'many', inputSchema: schema, jsonSchema: { input: true }, handler: () => 'never' });
    const details = failure(await router.handleRequest({ service: 'many', params: [] })).details as unknown[];
    expect(details).toHaveLength(51);
    expect(details[50]).toEqual({ path: '/', message: 'and 10 more problems' });
  });

  it('answers a validator that throws or rejects as INVALID_INPUT (input) or OUTPUT_INVALID (output), and keeps serving', async () => {
    const throwing = (how: 'throw' | 'reject'): StandardSchemaV1 => ({
      '~standard': {
        version: 1,
        vendor: 'hand',
        validate: how === 'throw' ? () => { throw new Error('validator bug'); } : () => Promise.reject(new Error('validator bug')),
      },
    });
    const router = new ServiceRouter({ logger: createLogger({ silent: true }) })
      .register({ name: 'in_throw', inputSchema: throwing('throw'), jsonSchema: { input: true }, handler: () => 'x' })
      .register({ name: 'in_reject', inputSchema: throwing('reject'), jsonSchema: { input: true }, handler: () => 'x' })
      .register({ name: 'out_throw', outputSchema: throwing('throw'), jsonSchema: { output: true }, handler: () => 'x' })
      .register({ name: 'ok', handler: () => 'fine' });
    const problem = [{ path: '/', message: 'could not be checked: the validator threw validator bug' }];
    expect(failure(await router.handleRequest({ service: 'in_throw' }))).toMatchObject({ code: 'INVALID_INPUT', details: problem });
    expect(failure(await router.handleRequest({ service: 'in_reject' }))).toMatchObject({ code: 'INVALID_INPUT', details: problem });
    expect(failure(await router.handleRequest({ service: 'out_throw' }))).toMatchObject({ code: 'OUTPUT_INVALID', details: problem });
    await expect(router.handleRequest({ service: 'ok' })).resolves.toMatchObject({ success: true, result: 'fine' });
    expect(router.metrics.snapshot('in_throw')).toMatchObject({ requests: 1, failures: 1 });
  });
});
