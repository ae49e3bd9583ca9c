import { isSovErrorCode, type SovErrorCode } from './errorCodes';
import { isSovError, SovError } from './sovError';

/**
 * An error answered by a remote peer or registry. `code` is the remote's code
 * when core or a loaded package declares it, else REMOTE_ERROR (a newer peer,
 * or a package this process does not load); `remoteCode` is always the code
 * the remote sent. `status` is the HTTP status it used, `retryAfterMs` its
 * Retry-After when it sent one.
 */
export class RemoteError extends SovError {
  /** The code exactly as the remote sent it (`code` is REMOTE_ERROR when this process does not know it). */
  readonly remoteCode: string;
  readonly httpStatus: number;
  readonly url: string;
  readonly retryAfterMs: number | undefined;

  constructor(
    init: { code: string; message: string; status: number; method: string; url: string; details?: unknown; retryAfterMs?: number },
    options: { cause?: unknown } = {},
  ) {
    const code: SovErrorCode = isSovErrorCode(init.code) ? init.code : 'REMOTE_ERROR';
    super(code, `${init.method} ${init.url} answered ${init.status} ${init.code}: ${init.message}`, {
      ...options,
      details: init.details,
    });
    this.name = 'RemoteError';
    this.remoteCode = init.code;
    this.httpStatus = init.status;
    this.url = init.url;
    this.retryAfterMs = init.retryAfterMs;
  }

  override get status(): number {
    return this.httpStatus;
  }
}

/** Whether a value is a RemoteError. */
export function isRemoteError(value: unknown): value is RemoteError {
  return value instanceof RemoteError || (isSovError(value) && value.name === 'RemoteError');
}
