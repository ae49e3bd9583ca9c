import { NetworkError, RemoteError, TimeoutError, isWireFailure } from '@sov/core';

const MAX_BYTES = 1024 * 1024;

/**
 * GETs a registry route and returns its success body, or throws a SovError:
 * the registry's own code (NO_FEDERATION_PATH ...), TIMEOUT, NETWORK_ERROR,
 * or REMOTE_ERROR for a body that is not the wire format.
 */
export async function fetchRegistryJson<T>(url: string, timeoutMs: number): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    if ((cause as Error).name === 'TimeoutError') throw new TimeoutError(`GET ${url}`, timeoutMs, { cause });
    throw new NetworkError('GET', url, { cause });
  }
  const text = await res.text();
  let body: unknown;
  try {
    if (text.length > MAX_BYTES) throw new Error(`body over ${MAX_BYTES} bytes`);
    body = JSON.parse(text);
  } catch (cause) {
    throw new RemoteError({ code: 'REMOTE_ERROR', message: `not a JSON answer: ${(cause as Error).message}`, status: res.status, method: 'GET', url }, { cause });
  }
  if (isWireFailure(body)) {
    throw new RemoteError({ code: body.error.code, message: body.error.message, status: res.status, method: 'GET', url });
  }
  if ((body as { success?: unknown }).success !== true) {
    throw new RemoteError({ code: 'REMOTE_ERROR', message: 'the answer is not a success in the wire format', status: res.status, method: 'GET', url });
  }
  return body as T;
}
