import type { KyInstance } from 'ky';
import { NetworkError } from '../errors/networkError';
import { RemoteError } from '../errors/remoteError';
import { isSovError } from '../errors/sovError';
import { TimeoutError } from '../errors/timeoutError';
import type { Signer } from '../ports';

const encoder = new TextEncoder();

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** One JSON request over ky: signs it when a signer is given, and turns every failure into a SovError. */
export async function jsonRequest<T>(init: {
  http: KyInstance;
  method: string;
  url: string;
  body?: unknown;
  signer: Signer | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}): Promise<T> {
  const { method, url } = init;
  const bytes = init.body === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(init.body));
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.signer) Object.assign(headers, await init.signer.sign({ method, url, body: bytes, headers }));

  let response: Response;
  try {
    response = await init.http(url, {
      method,
      headers,
      timeout: init.timeoutMs,
      ...(init.body === undefined ? {} : { body: bytes }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (cause) {
    if (isSovError(cause)) throw cause;
    if (cause instanceof Error && cause.name === 'TimeoutError') {
      throw new TimeoutError(`${method} ${url}`, init.timeoutMs, { cause });
    }
    if (init.signal?.aborted && isSovError(init.signal.reason)) throw init.signal.reason;
    throw new NetworkError(method, url, { cause });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text.length ? JSON.parse(text) : {};
  } catch (cause) {
    throw new RemoteError(
      { code: 'REMOTE_ERROR', message: `invalid JSON body: ${text.slice(0, 120)}`, status: response.status, method, url },
      { cause },
    );
  }
  const p = parsed as { success?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
  if (!response.ok || p.success !== true) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new RemoteError({
      code: typeof p.error?.code === 'string' ? p.error.code : 'REMOTE_ERROR',
      message: typeof p.error?.message === 'string' ? p.error.message : response.statusText || 'request failed',
      status: response.status,
      method,
      url,
      details: p.error?.details,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  return parsed as T;
}
