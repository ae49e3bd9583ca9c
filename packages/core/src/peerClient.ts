import { Agent as Dispatcher, errors as undiciErrors, request as undiciRequest } from 'undici';
import { NetworkError } from './errors/networkError';
import { RemoteError } from './errors/remoteError';
import { isSovError } from './errors/sovError';
import { TimeoutError } from './errors/timeoutError';
import type { Signer } from './ports';
import type { AgentRequest, RpcReply, WireSuccess } from './wire';

/** Options of PeerClient. */
export interface PeerClientOptions {
  /** Signs every call when given. */
  signer?: Signer;
  /** Time budget of one call in ms. @default 10000 */
  timeoutMs?: number;
  /** Keep-alive connections kept per peer. @default 32 */
  connectionsPerPeer?: number;
}

/** Options of one call. */
export interface PeerCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Ask the peer for a signed receipt of the call (costs the peer one signature). @default false */
  receipt?: boolean;
}

/** The header that asks a peer for a signed receipt. */
export const RECEIPT_HEADER = 'x-sov-receipt';

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = Number(v);
  return Number.isFinite(secs) ? Math.max(0, secs * 1000) : undefined;
}

/**
 * Calls other agents' request route (`POST <endpoint>/rpc`) over pooled
 * keep-alive connections (undici). Failures come back as SovErrors:
 * RemoteError carrying the peer's code, TimeoutError, NetworkError.
 *
 * @example
 * const reply = await peers.call(record.endpoint, { service: 'echo', params: { text: 'hi' } });
 */
export class PeerClient {
  private readonly signer: Signer | undefined;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;

  constructor(options: PeerClientOptions = {}) {
    this.signer = options.signer;
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.dispatcher = new Dispatcher({ connections: options.connectionsPerPeer ?? 32, keepAliveTimeout: 10_000 });
  }

  /** Sends a request to a peer's request route and returns its reply. */
  async call(endpoint: string, request: AgentRequest, options: PeerCallOptions = {}): Promise<WireSuccess<RpcReply>> {
    const url = `${endpoint.endsWith('/') ? endpoint.slice(0, -1) : endpoint}/rpc`;
    const body = Buffer.from(JSON.stringify(request));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.receipt) headers[RECEIPT_HEADER] = '1';
    if (this.signer) Object.assign(headers, await this.signer.sign({ method: 'POST', url, body, headers }));
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const res = await undiciRequest(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      text = await res.body.text();
    } catch (cause) {
      if (isSovError(cause)) throw cause;
      if (options.signal?.aborted && isSovError(options.signal.reason)) throw options.signal.reason;
      if (cause instanceof undiciErrors.HeadersTimeoutError || cause instanceof undiciErrors.BodyTimeoutError) {
        throw new TimeoutError(`POST ${url}`, timeoutMs, { cause });
      }
      throw new NetworkError('POST', url, { cause });
    }
    let parsed: { success?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (cause) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: `invalid JSON body: ${text.slice(0, 120)}`, status, method: 'POST', url }, { cause });
    }
    if (status >= 400 || parsed.success !== true) {
      const retryAfterMs = parseRetryAfter(retryAfter);
      throw new RemoteError({
        code: typeof parsed.error?.code === 'string' ? parsed.error.code : 'REMOTE_ERROR',
        message: typeof parsed.error?.message === 'string' ? parsed.error.message : `status ${status}`,
        status,
        method: 'POST',
        url,
        details: parsed.error?.details,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    return parsed as WireSuccess<RpcReply>;
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
