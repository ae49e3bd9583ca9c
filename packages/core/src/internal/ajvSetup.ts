import Ajv, { type ErrorObject } from 'ajv';
import type { FieldProblem } from '../errors/validationError';

/** At most this many bad fields are listed in one error: allErrors on a huge array must not build a huge reply. */
export const MAX_PROBLEMS = 50;

/**
 * The one Ajv setup of the SDK: config, the service router and client, the
 * registry and its A2A directory and federation compile their schemas with
 * an instance from here. `allErrors` so an error lists every bad field;
 * `strictSchema` so a typo in a keyword (`requried`) is refused when the
 * schema is compiled instead of silently accepting everything; strict type
 * checks off, since they reject (or log about) common, valid schemas.
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

/** One object key as a JSON pointer segment (RFC 6901: `~` as `~0`, `/` as `~1`). */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Caps a list of problems at MAX_PROBLEMS, the rest counted in one last
 * entry (`/`: `and N more problems`). `total` is the length of the full
 * list when only the first MAX_PROBLEMS were built.
 */
export function capProblems(problems: FieldProblem[], total = problems.length): FieldProblem[] {
  if (total <= MAX_PROBLEMS) return problems;
  const out = problems.slice(0, MAX_PROBLEMS);
  out.push({ path: '/', message: `and ${total - MAX_PROBLEMS} more problems` });
  return out;
}

/**
 * Ajv's errors as the field list of a ValidationError: a JSON pointer to each
 * bad field (a missing or unknown property is named in the pointer: `/a/b is
 * required`, `/extra is not allowed`), Ajv's words otherwise, `/` for the
 * whole value; at most MAX_PROBLEMS of them (see capProblems).
 */
export function ajvProblems(errors: readonly ErrorObject[] | null | undefined): FieldProblem[] {
  const list = errors ?? [];
  const out: FieldProblem[] = [];
  for (let i = 0; i < list.length && i < MAX_PROBLEMS; i++) {
    const e = list[i]!;
    if (e.keyword === 'required') {
      out.push({ path: `${e.instancePath}/${pointerSegment(String(e.params.missingProperty))}`, message: 'is required' });
    } else if (e.keyword === 'additionalProperties') {
      out.push({ path: `${e.instancePath}/${pointerSegment(String(e.params.additionalProperty))}`, message: 'is not allowed' });
    } else {
      out.push({ path: e.instancePath || '/', message: e.message ?? `fails ${e.keyword}` });
    }
  }
  return capProblems(out, list.length);
}
