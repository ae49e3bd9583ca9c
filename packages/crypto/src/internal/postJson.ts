import { isSovError, isWireFailure, NetworkError, RECEIVER_HEADER, RemoteError, TimeoutError, type Signer } from '@sov/core';

/**
 * POSTs JSON, signed when a signer is given (naming `receiver`, the agent id
 * it is meant for, when known); returns the success body or throws a SovError
 * (RemoteError, TimeoutError, NetworkError).
 */
export async function postJson<T>(url: string, body: unknown, options: { signer?: Signer; timeoutMs: number; receiver?: string }): Promise<T> {
  const bytes = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.receiver !== undefined) headers[RECEIVER_HEADER] = options.receiver;
  if (options.signer) Object.assign(headers, await options.signer.sign({ method: 'POST', url, body: bytes, headers }));
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: bytes, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (cause) {
    if (isSovError(cause)) throw cause;
    if (cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError')) {
      throw new TimeoutError(`POST ${url}`, options.timeoutMs, { cause });
    }
    throw new NetworkError('POST', url, { cause });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : {};
  } catch (cause) {
    throw new RemoteError({ code: 'REMOTE_ERROR', message: `invalid JSON body: ${text.slice(0, 120)}`, status: response.status, method: 'POST', url }, { cause });
  }
  if (!response.ok || (parsed as { success?: unknown }).success !== true) {
    const error = isWireFailure(parsed) ? parsed.error : undefined;
    throw new RemoteError({
      code: error?.code ?? 'REMOTE_ERROR',
      message: error?.message ?? (response.statusText || 'request failed'),
      status: response.status,
      method: 'POST',
      url,
      details: error?.details,
    });
  }
  return parsed as T;
}
