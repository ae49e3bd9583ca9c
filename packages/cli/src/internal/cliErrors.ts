import { SovError } from '@sov/core';
import { EXIT_CODES, type ExitCode } from '../exitCodes';

/** A command line that cannot be run as given; nothing was sent. Exits 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly exitCode: ExitCode = EXIT_CODES.USAGE;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The registry did not answer at all. Exits 3. */
export class RegistryUnreachableError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode = EXIT_CODES.UNREACHABLE;
  constructor(url: string, cause: SovError) {
    super(`The registry at ${url} did not answer: ${cause.message}`, { cause });
    this.name = 'RegistryUnreachableError';
    this.code = cause.code;
  }
}

/** What a failure prints (`CODE: message`, one line) and exits with. */
export function describeFailure(e: unknown): { code: string; message: string; exitCode: ExitCode } {
  if (e instanceof UsageError || e instanceof RegistryUnreachableError) return { code: e.code, message: oneLine(e.message), exitCode: e.exitCode };
  if (e instanceof SovError) return { code: e.code, message: oneLine(e.message), exitCode: EXIT_CODES.FAILED };
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.message === 'string') return { code: err.code, message: oneLine(err.message), exitCode: EXIT_CODES.FAILED };
  return { code: 'INTERNAL', message: oneLine(e instanceof Error ? e.message : String(e)), exitCode: EXIT_CODES.FAILED };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
