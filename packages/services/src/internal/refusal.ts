import { SovError, ValidationError, type FieldProblem, type SovErrorCode, type WireFailure } from '@sov/core';

/**
 * An expected refusal (bad input, no stake, busy), kept as plain data: it
 * becomes a wire failure without ever being an Error (capturing a stack
 * costs more than serving a small call), or a stack-less SovError for
 * `execute`, since its stack would point into the router, not at a bug.
 */
export interface Refusal {
  readonly refusal: true;
  readonly code: SovErrorCode;
  readonly message: string;
  readonly details: unknown;
  /** For INVALID_INPUT: what was invalid and every bad field, thrown as a ValidationError. */
  readonly validation?: { what: string; problems: FieldProblem[] };
}

/** A refusal with its stable code, message and (optional) details. */
export function refusal(code: SovErrorCode, message: string, details?: unknown): Refusal {
  return { refusal: true, code, message, details };
}

/** INVALID_INPUT listing every bad field, worded as core's ValidationError words it. */
export function invalidInput(service: string, problems: FieldProblem[]): Refusal {
  let list = '';
  for (let i = 0; i < problems.length; i++) list += `${i === 0 ? '' : '; '}${problems[i]!.path} ${problems[i]!.message}`;
  const what = `input of service "${service}"`;
  return { refusal: true, code: 'INVALID_INPUT', message: `Invalid ${what}: ${list}`, details: problems, validation: { what, problems } };
}

/** A failure as the caller gets it: the wire failure when `wire` (handleRequest), else the SovError (execute). */
export function answer(wire: boolean, error: SovError | Refusal): WireFailure | SovError {
  if (!('refusal' in error)) return wire ? error.toWire() : error;
  if (wire) {
    const out: WireFailure['error'] = { code: error.code, message: error.message };
    if (error.details !== undefined) out.details = error.details;
    return { success: false, error: out };
  }
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    if (error.validation) return new ValidationError(error.validation.what, error.validation.problems);
    return new SovError(error.code, error.message, error.details === undefined ? {} : { details: error.details });
  } finally {
    Error.stackTraceLimit = limit;
  }
}
