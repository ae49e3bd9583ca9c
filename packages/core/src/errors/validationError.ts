import { isSovError, SovError } from './sovError';

/** One bad field in a rejected input. */
export interface FieldProblem {
  /** JSON pointer to the field, `/` for the whole value. */
  path: string;
  /** What was wrong, in words. */
  message: string;
}

/** Input that failed validation. `details` lists every bad field. */
export class ValidationError extends SovError {
  readonly problems: FieldProblem[];

  constructor(what: string, problems: FieldProblem[], options: { cause?: unknown } = {}) {
    const list = problems.map((p) => `${p.path} ${p.message}`).join('; ');
    super('INVALID_INPUT', `Invalid ${what}: ${list}`, { ...options, details: problems });
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** Whether a value is a ValidationError (from any copy of the package). */
export function isValidationError(value: unknown): value is ValidationError {
  return value instanceof ValidationError || (isSovError(value) && value.name === 'ValidationError');
}
