import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import type { FieldProblem } from '@sov/core';
import { MAX_PROBLEMS, capProblems, pointerSegment } from '@sov/core/internal';
import type { JsonSchema } from '../serviceSchema';

/** The outcome of a Standard Schema check: the validated value, or every problem (JSON pointers, as Ajv's are). */
export type StandardOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problems: FieldProblem[] };

/**
 * Whether a schema is a Standard Schema validator (v1) rather than a JSON
 * Schema. A validator may be a function (arktype's are), a JSON Schema
 * never is.
 */
export function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) return false;
  const props = (schema as { '~standard'?: unknown })['~standard'];
  return typeof props === 'object' && props !== null && typeof (props as { validate?: unknown }).validate === 'function';
}

/** Whether a validator offers its own JSON Schema (Standard JSON Schema v1). */
function hasJsonSchemaExport(schema: StandardSchemaV1): schema is StandardSchemaV1 & StandardJSONSchemaV1 {
  const converter = (schema['~standard'] as { jsonSchema?: { input?: unknown } }).jsonSchema;
  return typeof converter === 'object' && converter !== null && typeof converter.input === 'function';
}

/**
 * The JSON Schema the catalog lists for a validator: the one given, else
 * the validator's own export of its input side (the wire form: what a
 * caller sends, what a handler returns), for draft-07 as the router's Ajv
 * reads. Undefined, with a problem pushed, when there is neither or the
 * export fails.
 */
export function catalogSchemaOf(schema: StandardSchemaV1, given: unknown, path: string, problems: FieldProblem[]): JsonSchema | undefined {
  if (given !== undefined) {
    if (typeof given === 'boolean' || (typeof given === 'object' && given !== null && !Array.isArray(given))) return given as JsonSchema;
    problems.push({ path, message: 'must be a JSON Schema (an object or a boolean)' });
    return undefined;
  }
  const vendor = String(schema['~standard'].vendor);
  if (!hasJsonSchemaExport(schema)) {
    problems.push({
      path,
      message: `is required: the ${vendor} validator exports no JSON Schema (~standard.jsonSchema), and the catalog lists one`,
    });
    return undefined;
  }
  try {
    return schema['~standard'].jsonSchema.input({ target: 'draft-07' });
  } catch (cause) {
    problems.push({ path, message: `is required: the ${vendor} validator could not export its JSON Schema (${(cause as Error).message})` });
    return undefined;
  }
}

/** A validator's issue path as a JSON pointer (`/items/0/name`). */
function pointerOf(path: StandardSchemaV1.Issue['path']): string {
  if (path === undefined || path.length === 0) return '/';
  let out = '';
  for (const segment of path) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    out += `/${pointerSegment(String(key))}`;
  }
  return out;
}

/** A validator's issues as the field list of a ValidationError, at most MAX_PROBLEMS of them (as for Ajv). */
export function problemsOfIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (let i = 0; i < issues.length && i < MAX_PROBLEMS; i++) {
    const issue = issues[i]!;
    out.push({ path: pointerOf(issue.path), message: String(issue.message) });
  }
  return capProblems(out, issues.length);
}

function outcomeOf(result: StandardSchemaV1.Result<unknown>): StandardOutcome {
  return result.issues ? { ok: false, problems: problemsOfIssues(result.issues) } : { ok: true, value: result.value };
}

function thrown(cause: unknown): StandardOutcome {
  return { ok: false, problems: [{ path: '/', message: `could not be checked: the validator threw ${cause instanceof Error ? cause.message : String(cause)}` }] };
}

/**
 * Runs a validator's `~standard.validate`, sync or async. A validator that
 * throws (or rejects) is reported as a problem at `/`, never as a crash.
 */
export function checkStandard(schema: StandardSchemaV1, value: unknown): StandardOutcome | Promise<StandardOutcome> {
  let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
  try {
    result = schema['~standard'].validate(value);
  } catch (cause) {
    return thrown(cause);
  }
  return typeof (result as { then?: unknown }).then === 'function'
    ? Promise.resolve(result).then(outcomeOf, thrown)
    : outcomeOf(result as StandardSchemaV1.Result<unknown>);
}
