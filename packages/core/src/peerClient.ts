import { Agent as Dispatcher, type Dispatcher as DispatcherTypes } from 'undici';
import { systemClock, type Clock } from './clock';
import { DeadlineQueue } from './deadlineQueue';
import { abortErrorOf } from './errors/cancelledError';
import { NetworkError } from './errors/networkError';
import { SovError, isSovError } from './errors/sovError';
import { RECEIVER_HEADER, SESSION_PATH, type SessionAuthenticator, type Signer } from './ports';
import { ExpiringSet } from './internal/expiringSet';
import { PendingCall } from './internal/pendingCall';
import { openMux, type MuxConnection } from './internal/muxClient';
import { replyOf } from './internal/peerReply';
import type { AgentRequest, RpcReply, WireSuccess } from './wire';

/** Options of PeerClient. */
export interface PeerClientOptions {
  /** Signs every call when given. */
  signer?: Signer;
  /**
   * Time budget of one call in ms: one deadline for connecting, sending, the
   * reply's headers and its whole body. When it passes, the call rejects with
   * TIMEOUT and its connection is closed.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Largest reply body accepted, in bytes. A larger one is refused with
   * RESPONSE_TOO_LARGE as soon as its Content-Length says so or the bytes
   * read pass the cap, and its connection is closed.
   * @default 8388608 (8 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Authenticates calls under sessions (see SessionAuthenticator): one
   * handshake per receiver, signed by `signer`, then an HMAC per request. A
   * receiver without a session route is called with per-request signatures
   * (by `signer`) instead; one that lost the session (it restarted) is sent
   * a new handshake and the call once more. Needs `signer`. @default none:
   * every call is signed per request by `signer`
   */
  sessions?: SessionAuthenticator;
  /** Keep-alive connections kept per peer. @default 32 */
  connectionsPerPeer?: number;
  /**
   * Requests sent on one connection before the first answer comes back
   * (HTTP/1.1 pipelining). More than 1 multiplexes calls over fewer
   * connections: fewer sockets and system calls, but a slow answer holds
   * back those behind it on its connection. Only signed calls are pipelined:
   * undici sends a pipelined request again on a new connection when its
   * connection drops before the answer, and only a signed request is refused
   * by its receiver as a replay if it had already arrived. @default 1
   */
  pipelining?: number;
  /**
   * How calls reach a peer. `'mux'`: every call to one peer in flight on
   * one connection (sov-mux/1, an HTTP/1.1 Upgrade on the agent's own port:
   * frames written in the same tick leave in one system call, answers come
   * back in any order), each request authenticated as over HTTP; a peer that
   * does not speak it is called over HTTP instead (and asked again after 5
   * minutes). `'http'`: each call is an HTTP/1.1 POST on the keep-alive pool
   * (`connectionsPerPeer`, `pipelining`). @default 'mux'
   */
  transport?: 'mux' | 'http';
  /** The clock of the deadlines. @default the system clock */
  clock?: Clock;
}

/** Options of one call. */
export interface PeerCallOptions {
  /** This call's deadline in ms (connect, headers and body). @default the client's timeoutMs */
  timeoutMs?: number;
  /**
   * The caller's signal: aborting it ends the call at once with CANCELLED
   * (TIMEOUT when its reason is a timeout, as `AbortSignal.timeout()`'s) and
   * closes its connection. An already aborted signal rejects without sending.
   */
  signal?: AbortSignal;
  /** This call's reply body cap in bytes. @default the client's maxResponseBytes */
  maxResponseBytes?: number;
  /** Ask the peer for a signed receipt of the call (costs the peer one signature). @default false */
  receipt?: boolean;
  /**
   * The id of the agent called. Sent as `x-sov-receiver` and covered by the
   * signature, so that only that agent accepts the call. @default none (the
   * signature then names the receiver by the URL's authority only)
   */
  receiver?: string;
}

/** The header that asks a peer for a signed receipt. */
export const RECEIPT_HEADER = 'x-sov-receipt';

/** The documented default of PeerClientOptions.maxResponseBytes: 8 MiB. */
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** Distinct budgets that share a deadline timer; calls with yet other budgets get a timer each. */
const MAX_DEADLINE_QUEUES = 16;
/** Peer endpoints whose parsed URL is kept. */
const MAX_CACHED_TARGETS = 1000;

/** Where one peer's request route is: the URL to sign and the parts undici dispatches to, parsed once per peer. */
interface Target {
  url: string;
  origin: string;
  path: string;
  /** The peer's endpoint (origin and path prefix): sessions are kept per endpoint and receiver id. */
  base: string;
  /** The peer's session handshake route. */
  sessionUrl: string;
  sessionPath: string;
}

/** How long a receiver that answered the handshake with ROUTE_NOT_FOUND is called with per-request signatures before it is asked again. */
const NO_SESSIONS_RETRY_MS = 5 * 60_000;
const SESSION_LOST = new Set(['SESSION_UNKNOWN', 'SESSION_EXPIRED']);
/** How long a peer that does not speak sov-mux is called over HTTP before it is asked again. */
const NO_MUX_RETRY_MS = 5 * 60_000;
/** A multiplexed connection with no call in flight is closed after this long. */
const MUX_IDLE_MS = 30_000;

/** A call on its way to a peer's request route, as the slow path (opening a connection first) carries it. */
interface RpcSend {
  target: Target;
  body: Uint8Array;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
  signal: AbortSignal | undefined;
}

/** A peer's multiplexed connections, and the one being opened. */
interface MuxPeer {
  connections: MuxConnection[];
  opening: Promise<MuxConnection | undefined> | undefined;
}
const SESSION_KEY_ID = /;keyid="([^"]*)"/;

function positiveOption(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new SovError('INVALID_CONFIG', `PeerClient ${name} must be a finite number > 0, got ${value}`);
  return value;
}

/** Waits for `promise`, or rejects as soon as `signal` aborts (the work itself goes on for whoever else waits). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(abortErrorOf(signal, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortErrorOf(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Reads one header of undici's raw list (name, value, name, value ...), comparing lengths before decoding. */
function rawHeader(raw: Buffer[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toString('latin1').toLowerCase() === name) return raw[i + 1]!.toString('latin1');
  }
  return undefined;
}

/**
 * One call in flight: undici's handler for its response, and its deadline.
 * The handler API (not `request()`) lets the call collect the body itself,
 * count it against the cap, and close the connection (undici's `abort`
 * destroys the socket) the moment it gives up; undici's own header and body
 * timeouts are idle timers between chunks, not a deadline.
 */
class PeerCallHandler extends PendingCall implements DispatcherTypes.DispatchHandlers {
  private abortConnection: ((error: Error) => void) | undefined;
  /** Why the call gave up before undici handed it a connection: given to `abort` when it does. */
  private failure: Error | undefined;
  private status = 0;
  private retryAfter: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    url: string,
    deadline: number,
    timeoutMs: number,
    private readonly maxBytes: number,
    signal: AbortSignal | undefined,
    queue: DeadlineQueue | undefined,
    clock: Clock,
    private readonly resolve: (reply: WireSuccess<RpcReply>) => void,
    private readonly reject: (error: Error) => void,
  ) {
    super(url, deadline, timeoutMs, signal, queue, clock);
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.failure) abort(this.failure);
    else this.abortConnection = abort;
  }

  onHeaders(status: number, raw: Buffer[]): boolean {
    if (status < 200) return true;
    this.status = status;
    const length = rawHeader(raw, 'content-length');
    if (length !== undefined && Number(length) > this.maxBytes) {
      this.giveUp(this.tooLarge(`announces ${length} bytes`));
      return false;
    }
    if (status >= 400) this.retryAfter = rawHeader(raw, 'retry-after');
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.giveUp(this.tooLarge(`passed ${this.maxBytes} bytes`));
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.finish();
    const text = this.chunks.length === 1 ? this.chunks[0]!.toString('utf8') : Buffer.concat(this.chunks, this.size).toString('utf8');
    let reply: WireSuccess<RpcReply>;
    try {
      reply = replyOf(this.status, text, this.retryAfter, this.url);
    } catch (e) {
      this.reject(e as Error);
      return;
    }
    this.resolve(reply);
  }

  onError(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.reject(isSovError(error) ? error : new NetworkError('POST', this.url, { cause: error }));
  }

  /** Ends the call with `error` and frees its connection at once: nothing more is read. */
  giveUp(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.chunks.length = 0;
    this.reject(error);
    if (this.abortConnection) this.abortConnection(error);
    else this.failure = error;
  }

  private tooLarge(what: string): SovError {
    return new SovError('RESPONSE_TOO_LARGE', `POST ${this.url} answered a body larger than ${this.maxBytes} bytes (it ${what})`);
  }
}

/**
 * Calls other agents' request route (`POST <endpoint>/rpc`) over pooled
 * keep-alive connections (undici). One deadline covers the whole call
 * (connect, headers, body) and the reply body is capped; a call that gives up
 * (deadline, cap, the caller's abort) closes its connection at once. Failures
 * come back as SovErrors: RemoteError carrying the peer's code, TimeoutError,
 * CancelledError, RESPONSE_TOO_LARGE, NetworkError.
 *
 * @example
 * const reply = await peers.call(record.endpoint, { service: 'echo', params: { text: 'hi' } });
 */
export class PeerClient {
  private readonly signer: Signer | undefined;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher;
  /** One shared deadline timer per budget: calls with the same budget end in the order they start. */
  private readonly deadlines = new Map<number, DeadlineQueue>();
  private readonly targets = new Map<string, Target>();
  private readonly sessions: SessionAuthenticator | undefined;
  /** Handshakes on their way, by peer: concurrent first calls share one. */
  private readonly handshakes = new Map<string, Promise<boolean>>();
  /** Peers that take no sessions (called per request for a while before they are asked again). */
  private readonly withoutSessions: ExpiringSet;
  /** Whether signed requests may share a connection with others in flight (see PeerClientOptions.pipelining). */
  private readonly pipelined: boolean;
  private readonly mux: boolean;
  private readonly connectionsPerPeer: number;
  /** Multiplexed connections by peer endpoint (origin and path prefix). */
  private readonly muxPeers = new Map<string, MuxPeer>();
  /** Peer endpoints that do not speak sov-mux (called over HTTP for a while before they are asked again). */
  private readonly withoutMux: ExpiringSet;
  private closing = false;

  constructor(options: PeerClientOptions = {}) {
    this.signer = options.signer;
    this.sessions = options.signer ? options.sessions : undefined;
    this.pipelined = (options.pipelining ?? 1) > 1 && options.signer !== undefined;
    this.timeoutMs = positiveOption('timeoutMs', options.timeoutMs ?? 10000);
    this.maxResponseBytes = positiveOption('maxResponseBytes', options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    this.clock = options.clock ?? systemClock;
    this.withoutSessions = new ExpiringSet(this.clock, NO_SESSIONS_RETRY_MS, MAX_CACHED_TARGETS);
    this.withoutMux = new ExpiringSet(this.clock, NO_MUX_RETRY_MS, MAX_CACHED_TARGETS);
    if (options.transport !== undefined && options.transport !== 'mux' && options.transport !== 'http') {
      throw new SovError('INVALID_CONFIG', `PeerClient transport must be 'mux' or 'http', got ${JSON.stringify(options.transport)}`);
    }
    this.mux = options.transport !== 'http';
    this.connectionsPerPeer = positiveOption('connectionsPerPeer', options.connectionsPerPeer ?? 32);
    this.dispatcher = new Dispatcher({
      connections: this.connectionsPerPeer,
      pipelining: positiveOption('pipelining', options.pipelining ?? 1),
      keepAliveTimeout: 10_000,
    });
  }

  /**
   * Sends a request to a peer's request route and returns its reply. Rejects
   * with TIMEOUT when the deadline passes, CANCELLED when the caller's signal
   * aborts, RESPONSE_TOO_LARGE when the reply passes the cap, NETWORK_ERROR
   * when no answer came, or a RemoteError with the peer's code.
   */
  async call(endpoint: string, request: AgentRequest, options: PeerCallOptions = {}): Promise<WireSuccess<RpcReply>> {
    const signal = options.signal;
    const target = this.targetOf(endpoint);
    const url = target.url;
    if (signal?.aborted) throw abortErrorOf(signal, `POST ${url}`);
    const body = Buffer.from(JSON.stringify(request));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.receipt) headers[RECEIPT_HEADER] = '1';
    if (options.receiver !== undefined) headers[RECEIVER_HEADER] = options.receiver;
    const timeoutMs = options.timeoutMs === undefined ? this.timeoutMs : positiveOption('timeoutMs', options.timeoutMs);
    const maxBytes = options.maxResponseBytes === undefined ? this.maxResponseBytes : positiveOption('maxResponseBytes', options.maxResponseBytes);
    if (!this.signer) return this.sendRpc(target, body, headers, timeoutMs, maxBytes, signal);
    const peer = this.sessions ? `${options.receiver ?? ''} ${target.base}` : '';
    // The common case, a session already open: signed at once, no wait.
    const session = this.sessions && !this.withoutSessions.has(peer) ? this.sessions.sign(peer, { method: 'POST', url, body, headers }) : undefined;
    if (session) {
      Object.assign(headers, session);
      return this.sendRpc(target, body, headers, timeoutMs, maxBytes, signal).catch((e: unknown) =>
        this.afterSessionLost(e, target, peer, options.receiver, body, headers, this.clock.now() + timeoutMs, timeoutMs, maxBytes, signal),
      );
    }
    const deadline = this.clock.now() + timeoutMs;
    const signed = await this.authenticate(target, peer, options.receiver, body, headers, timeoutMs);
    if (signal?.aborted) throw abortErrorOf(signal, `POST ${url}`);
    const sent = this.sendRpc(target, body, headers, this.remaining(deadline, timeoutMs), maxBytes, signal);
    return signed ? sent.catch((e: unknown) => this.afterSessionLost(e, target, peer, options.receiver, body, headers, deadline, timeoutMs, maxBytes, signal)) : sent;
  }

  /** The receiver lost the session (it restarted, or let it expire): a new handshake, and the call once more; any other error stands. */
  private async afterSessionLost(
    e: unknown,
    target: Target,
    peer: string,
    receiver: string | undefined,
    body: Buffer,
    headers: Record<string, string>,
    deadline: number,
    timeoutMs: number,
    maxBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<WireSuccess<RpcReply>> {
    if (!isSovError(e) || !SESSION_LOST.has(e.code)) throw e;
    // Only the session this request was signed under: one that a concurrent call has just opened stays.
    this.sessions!.forget(peer, SESSION_KEY_ID.exec(headers['Signature-Input'] ?? '')?.[1]);
    await this.authenticate(target, peer, receiver, body, headers, this.remaining(deadline, timeoutMs));
    if (signal?.aborted) throw abortErrorOf(signal, `POST ${target.url}`);
    return this.sendRpc(target, body, headers, this.remaining(deadline, timeoutMs), maxBytes, signal);
  }

  /** What is left of a call's budget, never less than 1 ms (the deadline then passes at once). */
  private remaining(deadline: number, timeoutMs: number): number {
    return Math.max(1, Math.min(timeoutMs, deadline - this.clock.now()));
  }

  /**
   * Adds the request's authentication to `headers`: under the session with
   * `peer` (opened first when there is none), else a per-request signature.
   * Resolves whether a session signed it.
   */
  private async authenticate(
    target: Target,
    peer: string,
    receiver: string | undefined,
    body: Buffer,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<boolean> {
    const signable = { method: 'POST', url: target.url, body, headers };
    if (this.sessions && !this.withoutSessions.has(peer)) {
      let session = this.sessions.sign(peer, signable);
      // The handshake is shared by every call waiting for it: one caller's abort does not end it (its own call still stops).
      if (!session && (await this.handshake(target, peer, receiver, timeoutMs))) session = this.sessions.sign(peer, signable);
      if (session) {
        Object.assign(headers, session);
        return true;
      }
    }
    Object.assign(headers, await this.signer!.sign(signable));
    return false;
  }

  /** Opens a session with `peer`; resolves false when the peer takes no sessions (it has no handshake route). */
  private handshake(target: Target, peer: string, receiver: string | undefined, timeoutMs: number): Promise<boolean> {
    let pending = this.handshakes.get(peer);
    if (pending) return pending;
    pending = (async () => {
      const offer = this.sessions!.offer(peer, receiver);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (receiver !== undefined) headers[RECEIVER_HEADER] = receiver;
      Object.assign(headers, await this.signer!.sign({ method: 'POST', url: target.sessionUrl, body: offer.body, headers }));
      try {
        const reply = await this.send(target.origin, target.sessionPath, target.sessionUrl, offer.body, headers, timeoutMs, 64 * 1024, undefined);
        offer.complete(reply);
        return true;
      } catch (e) {
        if (!isSovError(e) || e.code !== 'ROUTE_NOT_FOUND') throw e;
        this.withoutSessions.add(peer);
        return false;
      }
    })().finally(() => this.handshakes.delete(peer));
    this.handshakes.set(peer, pending);
    return pending;
  }

  /** One call to a peer's request route: over its multiplexed connection when it speaks sov-mux, else an HTTP POST. */
  private sendRpc(
    target: Target,
    body: Uint8Array,
    headers: Record<string, string>,
    timeoutMs: number,
    maxBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<WireSuccess<RpcReply>> {
    if (this.mux && !this.closing) {
      const connection = this.muxConnection(target.base);
      if (connection) return connection.call(headers, body, timeoutMs, maxBytes, signal, this.deadlineQueue(timeoutMs), this.clock);
      if (!this.withoutMux.has(target.base)) return this.sendOnNewMux({ target, body, headers, timeoutMs, maxBytes, signal });
    }
    return this.send(target.origin, target.path, target.url, body, headers, timeoutMs, maxBytes, signal);
  }

  /** The least loaded open connection to `base` that takes another call. */
  private muxConnection(base: string): MuxConnection | undefined {
    const peer = this.muxPeers.get(base);
    if (!peer) return undefined;
    let best: MuxConnection | undefined;
    for (const connection of peer.connections) if (connection.usable && (!best || connection.load < best.load)) best = connection;
    return best;
  }

  /** Opens a connection to the peer (shared by the calls that wait for it), then sends; over HTTP when the peer does not switch. */
  private async sendOnNewMux(call: RpcSend): Promise<WireSuccess<RpcReply>> {
    const { target, body, headers, timeoutMs, maxBytes, signal } = call;
    const deadline = this.clock.now() + timeoutMs;
    const opening = this.openMuxTo(target.base, timeoutMs);
    const connection = await (signal ? untilAborted(opening, signal, `POST ${target.url}`) : opening);
    if (connection?.usable) return connection.call(headers, body, timeoutMs, maxBytes, signal, undefined, this.clock, deadline);
    return this.send(target.origin, target.path, target.url, body, headers, this.remaining(deadline, timeoutMs), maxBytes, signal);
  }

  private openMuxTo(base: string, timeoutMs: number): Promise<MuxConnection | undefined> {
    let peer = this.muxPeers.get(base);
    if (peer?.opening) return peer.opening;
    if (!peer) {
      if (this.muxPeers.size >= MAX_CACHED_TARGETS) this.dropMuxPeer(this.muxPeers.keys().next().value!);
      peer = { connections: [], opening: undefined };
      this.muxPeers.set(base, peer);
    }
    if (peer.connections.length >= this.connectionsPerPeer) {
      const limit = peer.connections.reduce((n, c) => n + c.maxStreams, 0);
      return Promise.reject(new SovError('TOO_MANY_IN_FLIGHT', `${limit} calls are in flight to ${base} on ${peer.connections.length} connections (connectionsPerPeer): none takes another`));
    }
    const held = peer;
    held.opening = openMux({ base, timeoutMs, idleMs: MUX_IDLE_MS, clock: this.clock })
      .then((opened) => {
        if (opened.kind !== 'open') {
          if (opened.kind === 'unsupported') this.withoutMux.add(base);
          return undefined;
        }
        const connection = opened.connection;
        if (this.closing) {
          connection.destroy();
          return undefined;
        }
        held.connections.push(connection);
        connection.onGone = () => {
          const at = held.connections.indexOf(connection);
          if (at >= 0) held.connections.splice(at, 1);
        };
        return connection;
      })
      .finally(() => {
        held.opening = undefined;
      });
    return held.opening;
  }

  private dropMuxPeer(base: string): void {
    const peer = this.muxPeers.get(base);
    this.muxPeers.delete(base);
    for (const connection of peer?.connections ?? []) void connection.close();
  }

  /** One POST with its deadline, body cap and the caller's signal. */
  private send(
    origin: string,
    path: string,
    url: string,
    body: Uint8Array,
    headers: Record<string, string>,
    timeoutMs: number,
    maxBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<WireSuccess<RpcReply>> {
    return new Promise<WireSuccess<RpcReply>>((resolve, reject) => {
      const handler = new PeerCallHandler(url, this.clock.now() + timeoutMs, timeoutMs, maxBytes, signal, this.deadlineQueue(timeoutMs), this.clock, resolve, reject);
      try {
        this.dispatcher.dispatch({ origin, path, method: 'POST', headers, body, idempotent: this.pipelined }, handler);
      } catch (e) {
        handler.onError(e as Error);
      }
    });
  }

  private targetOf(endpoint: string): Target {
    let target = this.targets.get(endpoint);
    if (target) return target;
    const url = `${endpoint.endsWith('/') ? endpoint.slice(0, -1) : endpoint}/rpc`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new SovError('INVALID_INPUT', `Peer endpoint is not a URL: ${endpoint.slice(0, 200)}`, { cause });
    }
    const base = parsed.pathname.slice(0, -'/rpc'.length);
    target = {
      url,
      origin: parsed.origin,
      path: `${parsed.pathname}${parsed.search}`,
      base: `${parsed.origin}${base}`,
      sessionUrl: `${parsed.origin}${base}${SESSION_PATH}`,
      sessionPath: `${base}${SESSION_PATH}`,
    };
    if (this.targets.size >= MAX_CACHED_TARGETS) this.targets.delete(this.targets.keys().next().value!);
    this.targets.set(endpoint, target);
    return target;
  }

  private deadlineQueue(timeoutMs: number): DeadlineQueue | undefined {
    let queue = this.deadlines.get(timeoutMs);
    if (queue || this.deadlines.size >= MAX_DEADLINE_QUEUES) return queue;
    queue = new DeadlineQueue(this.clock);
    this.deadlines.set(timeoutMs, queue);
    return queue;
  }

  /** Closes every pooled and multiplexed connection; calls in flight finish first. */
  async close(): Promise<void> {
    this.closing = true;
    const connections = [...this.muxPeers.values()].flatMap((peer) => peer.connections);
    this.muxPeers.clear();
    await Promise.all([this.dispatcher.close(), ...connections.map((c) => c.close())]);
  }
}
