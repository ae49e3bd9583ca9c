import ky, { type KyInstance } from 'ky';
import { jsonRequest } from './internal/jsonRequest';
import type { Signer } from './ports';
import type { AgentRequest, RpcReply, WireSuccess } from './wire';

/** Options of PeerClient. */
export interface PeerClientOptions {
  /** Signs every call when given. */
  signer?: Signer;
  /** Time budget of one call in ms. @default 10000 */
  timeoutMs?: number;
}

/**
 * Calls other agents' request route (`POST <endpoint>/rpc`). Failures come
 * back as SovErrors: RemoteError carrying the peer's code, TimeoutError,
 * NetworkError.
 *
 * @example
 * const reply = await peers.call(record.endpoint, { service: 'echo', params: { text: 'hi' } });
 */
export class PeerClient {
  private readonly http: KyInstance;
  private readonly signer: Signer | undefined;
  private readonly timeoutMs: number;

  constructor(options: PeerClientOptions = {}) {
    this.signer = options.signer;
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.http = ky.create({ retry: 0, throwHttpErrors: false });
  }

  /** Sends a request to a peer's request route and returns its reply. */
  call(endpoint: string, request: AgentRequest, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<WireSuccess<RpcReply>> {
    return jsonRequest<WireSuccess<RpcReply>>({
      http: this.http,
      method: 'POST',
      url: `${endpoint.replace(/\/+$/, '')}/rpc`,
      body: request,
      signer: this.signer,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}
