import { isSovError, SovError } from './sovError';

/** A request that never got an HTTP answer (refused, reset, DNS, TLS). */
export class NetworkError extends SovError {
  readonly url: string;

  constructor(method: string, url: string, options: { cause?: unknown } = {}) {
    const reason = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('NETWORK_ERROR', `Request failed: ${method} ${url}${reason}`, options);
    this.name = 'NetworkError';
    this.url = url;
  }
}

/** Whether a value is a NetworkError. */
export function isNetworkError(value: unknown): value is NetworkError {
  return value instanceof NetworkError || (isSovError(value) && value.name === 'NetworkError');
}
