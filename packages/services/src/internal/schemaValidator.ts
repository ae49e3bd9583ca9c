import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ValidationError, type FieldProblem } from '@sov/core';
import type { JsonSchema } from '../serviceSchema';

/** At most this many bad fields are listed in one error: allErrors on a huge array must not build a huge reply. */
export const MAX_PROBLEMS = 50;

/**
 * The Ajv instance a router compiles every schema with. `allErrors` so an
 * error lists every bad field; `strictSchema` so a typo in a keyword
 * (`requried`) is refused at registration instead of silently accepting
 * everything; strict type checks off, since they reject common, valid schemas.
 */
export function createAjv(): Ajv {
  return new Ajv({
    allErrors: true,
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
  });
}

/** Turns Ajv's errors into the field list of a ValidationError (JSON pointers, plain words). */
export function problemsOf(errors: ErrorObject[] | null | undefined): FieldProblem[] {
  const list = errors ?? [];
  const out: FieldProblem[] = [];
  for (let i = 0; i < list.length && i < MAX_PROBLEMS; i++) {
    const e = list[i]!;
    if (e.keyword === 'required') {
      out.push({ path: `${e.instancePath}/${String(e.params.missingProperty)}`, message: 'is required' });
    } else if (e.keyword === 'additionalProperties') {
      out.push({ path: `${e.instancePath}/${String(e.params.additionalProperty)}`, message: 'is not allowed' });
    } else {
      out.push({ path: e.instancePath || '/', message: e.message ?? `fails ${e.keyword}` });
    }
  }
  if (list.length > MAX_PROBLEMS) out.push({ path: '/', message: `and ${list.length - MAX_PROBLEMS} more problems` });
  return out;
}

/**
 * Compiles a schema once. An invalid schema (against the JSON Schema
 * meta-schema, or one Ajv cannot compile) throws a ValidationError naming
 * the service and every problem.
 */
export function compileSchema(ajv: Ajv, schema: JsonSchema, what: string): ValidateFunction {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    throw new ValidationError(what, [{ path: '/', message: 'must be a JSON Schema (an object or a boolean)' }]);
  }
  if (!ajv.validateSchema(schema)) {
    throw new ValidationError(
      what,
      problemsOf(ajv.errors).map((p) => ({ path: p.path, message: p.message })),
    );
  }
  try {
    return ajv.compile(schema);
  } catch (cause) {
    throw new ValidationError(what, [{ path: '/', message: (cause as Error).message }], { cause });
  }
}
