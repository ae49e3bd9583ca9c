import { SovError, isSovError } from '@sov/core';

/** SQLSTATEs and driver failures that mean "the database cannot be reached right now", not "this request is wrong". */
const UNREACHABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '40001', '40P01']);
const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether an error from pg says the database is out of reach (connection lost, refused, shut down, timed out). */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  if (code.startsWith('08') || UNREACHABLE_STATES.has(code) || UNREACHABLE_NODE_CODES.has(code)) return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|connection error|timeout exceeded when trying to connect|not queryable|Client was closed|Query read timeout/i.test(message);
}

/**
 * The SovError for a failed store operation: UNAVAILABLE for a read and
 * STATE_WRITE_FAILED for a write while the database is out of reach (both
 * 503, so clients retry), INVALID_INPUT for text PostgreSQL cannot hold
 * (U+0000), INTERNAL otherwise; the pg error is kept as `cause`.
 */
export function storeError(e: unknown, operation: string, write: boolean): SovError {
  if (isSovError(e)) return e;
  const err = e as { code?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (err?.code === '22021' || err?.code === '22P05' || /\\u0000|0x00/.test(message)) {
    return new SovError('INVALID_INPUT', `The registry's PostgreSQL store cannot keep the character U+0000 (${operation})`, { cause: e });
  }
  if (isUnreachable(e)) {
    return write
      ? new SovError('STATE_WRITE_FAILED', `PostgreSQL registry store: ${operation} failed, the database is unreachable (${message}); it was not acknowledged, retry`, { cause: e })
      : new SovError('UNAVAILABLE', `PostgreSQL registry store: ${operation} failed, the database is unreachable (${message})`, { cause: e });
  }
  return new SovError('INTERNAL', `PostgreSQL registry store: ${operation} failed: ${message}`, { cause: e });
}
