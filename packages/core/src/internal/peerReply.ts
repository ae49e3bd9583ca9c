import { RemoteError } from '../errors/remoteError';
import type { RpcReply, WireSuccess } from '../wire';

function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  return Number.isFinite(secs) ? Math.max(0, secs * 1000) : undefined;
}

/** Turns a complete reply into its success body, or throws the RemoteError it stands for. */
export function replyOf(status: number, text: string, retryAfter: string | undefined, url: string): WireSuccess<RpcReply> {
  let parsed: { success?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (cause) {
    throw new RemoteError({ code: 'REMOTE_ERROR', message: `invalid JSON body: ${text.slice(0, 120)}`, status, method: 'POST', url }, { cause });
  }
  if (status >= 400 || typeof parsed !== 'object' || parsed === null || parsed.success !== true) {
    const error = typeof parsed === 'object' && parsed !== null ? parsed.error : undefined;
    // Over HTTP the hint is a Retry-After header; over sov-mux the error's own details carry it.
    const hinted = (error?.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    const retryAfterMs = parseRetryAfter(retryAfter) ?? (typeof hinted === 'number' && hinted >= 0 ? hinted : undefined);
    throw new RemoteError({
      code: typeof error?.code === 'string' ? error.code : 'REMOTE_ERROR',
      message: typeof error?.message === 'string' ? error.message : `status ${status}`,
      status,
      method: 'POST',
      url,
      details: error?.details,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  return parsed as WireSuccess<RpcReply>;
}

