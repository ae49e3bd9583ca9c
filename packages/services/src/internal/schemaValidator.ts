import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { ValidationError } from '@sov/core';
import { ajvProblems } from '@sov/core/internal';
import type { JsonSchema } from '../serviceSchema';

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
    throw new ValidationError(what, ajvProblems(ajv.errors));
  }
  try {
    return ajv.compile(schema);
  } catch (cause) {
    throw new ValidationError(what, [{ path: '/', message: (cause as Error).message }], { cause });
  }
}
