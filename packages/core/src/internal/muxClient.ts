import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Clock } from '../clock';
import type { DeadlineQueue } from '../deadlineQueue';
import { NetworkError } from '../errors/networkError';
import { RemoteError } from '../errors/remoteError';
import { SovError } from '../errors/sovError';
import { TimeoutError } from '../errors/timeoutError';
import type { RpcReply, WireSuccess } from '../wire';
import {
  FRAME_GOAWAY,
  FRAME_HEAD,
  FRAME_RESPONSE,
  FrameReader,
  FrameWriter,
  MAX_STREAM_ID,
  MUX_MAX_STREAMS_HEADER,
  MUX_PATH,
  MUX_PROTOCOL,
  cancelFrame,
  requestFrame,
  type FrameSink,
} from './muxFrames';
import { PendingCall } from './pendingCall';
import { replyOf } from './peerReply';

/** Connection errors that mean the peer cannot be reached at all (so HTTP could not reach it either). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);
/** Streams assumed when a receiver names no bound. */
const DEFAULT_MAX_STREAMS = 128;
/** Largest goaway accepted: a status and a short wire failure. */
const MAX_GOAWAY_BYTES = 16 * 1024;

/** How an upgrade attempt ended: a connection, or why the peer is called over HTTP instead. */
export type MuxOpening =
  | { kind: 'open'; connection: MuxConnection }
  /** The peer answered the upgrade without switching (a 404 from an older agent, any answer of a plain HTTP server): it does not speak sov-mux. */
  | { kind: 'unsupported' }
  /** The peer is there but unavailable for now (503: shutting down, not ready): HTTP for this call, and asked again on the next. */
  | { kind: 'declined' };

/** Options of one connection. */
export interface MuxConnectOptions {
  /** The peer's endpoint base (origin and path prefix), without a trailing slash. */
  base: string;
  timeoutMs: number;
  /** Close the connection after this long with no call in flight, in ms. */
  idleMs: number;
  clock: Clock;
}

/**
 * Opens one sov-mux/1 connection to an agent endpoint: `GET <base>/sov/mux`
 * with `Upgrade: sov-mux/1`. Rejects with NETWORK_ERROR when the peer cannot
 * be reached and TIMEOUT when it does not answer within `timeoutMs`.
 */
export function openMux(options: MuxConnectOptions): Promise<MuxOpening> {
  const url = new URL(`${options.base}${MUX_PATH}`);
  // Errors name the call the connection is for, not the upgrade under it.
  const rpcUrl = `${options.base}/rpc`;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<MuxOpening>((resolve, reject) => {
    let req: ClientRequest | undefined;
    const timer = options.clock.setTimeout(() => {
      req?.destroy();
      reject(new TimeoutError(`POST ${rpcUrl}`, options.timeoutMs));
    }, options.timeoutMs);
    const settle = (): void => options.clock.clearTimeout(timer);
    try {
      req = request(url, { method: 'GET', agent: false, headers: { connection: 'Upgrade', upgrade: MUX_PROTOCOL } });
    } catch (cause) {
      settle();
      reject(new NetworkError('POST', rpcUrl, { cause }));
      return;
    }
    req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      settle();
      if (String(res.headers.upgrade ?? '').toLowerCase() !== MUX_PROTOCOL) {
        socket.destroy();
        resolve({ kind: 'unsupported' });
        return;
      }
      const announced = Number(res.headers[MUX_MAX_STREAMS_HEADER]);
      const maxStreams = Number.isSafeInteger(announced) && announced > 0 ? announced : DEFAULT_MAX_STREAMS;
      resolve({ kind: 'open', connection: new MuxConnection(socket, head, maxStreams, options.idleMs, rpcUrl) });
    });
    req.once('response', (res: IncomingMessage) => {
      settle();
      res.resume();
      resolve({ kind: res.statusCode === 503 ? 'declined' : 'unsupported' });
    });
    req.once('error', (cause: Error & { code?: string }) => {
      settle();
      // Nobody there: the call fails as it would over HTTP. Anything else (a reset, an answer that is not HTTP): HTTP is tried.
      if (cause.code !== undefined && UNREACHABLE.has(cause.code)) reject(new NetworkError('POST', rpcUrl, { cause }));
      else resolve({ kind: 'unsupported' });
    });
    req.end();
  });
}

/** One call in flight on a connection: its deadline, the caller's signal, its reply's cap. */
class MuxCall extends PendingCall {
  constructor(
    private readonly connection: MuxConnection,
    readonly stream: number,
    deadline: number,
    timeoutMs: number,
    readonly maxBytes: number,
    signal: AbortSignal | undefined,
    queue: DeadlineQueue | undefined,
    clock: Clock,
    private readonly resolve: (reply: WireSuccess<RpcReply>) => void,
    private readonly reject: (error: Error) => void,
  ) {
    super(connection.url, deadline, timeoutMs, signal, queue, clock);
  }

  /** The caller stops waiting: the receiver is told (CANCEL), and a late answer is dropped. */
  giveUp(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.connection.cancel(this.stream);
    this.reject(error);
  }

  /** The connection ended under the call, or refused its answer. */
  fail(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.reject(error);
  }

  complete(status: number, text: string): void {
    if (this.settled) return;
    this.finish();
    let reply: WireSuccess<RpcReply>;
    try {
      reply = replyOf(status, text, undefined, this.connection.url);
    } catch (e) {
      this.reject(e as Error);
      return;
    }
    this.resolve(reply);
  }
}

/**
 * The caller's end of one sov-mux/1 connection: each call is a stream, sent
 * as one request frame (frames written in the same tick leave in one system
 * call) and answered whenever its receiver is done, in any order. A call
 * that gives up (deadline, the caller's abort, a reply over its cap) ends at
 * once and the others go on; the connection ending fails the calls still
 * on it with NETWORK_ERROR (none is sent again: the receiver may have run it).
 */
export class MuxConnection implements FrameSink {
  private readonly reader = new FrameReader(this);
  private readonly writer: FrameWriter;
  private readonly calls = new Map<number, MuxCall>();
  private nextStream = 1;
  private gone: Error | undefined;
  /** No new calls: the receiver said goaway, or the client is closing. */
  private draining = false;
  private drained: (() => void) | undefined;
  private referenced = true;
  /** Told once, when the connection can take no more calls. */
  onGone: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    readonly maxStreams: number,
    idleMs: number,
    /** The request route these calls stand for, for messages. */
    readonly url: string,
  ) {
    this.writer = new FrameWriter(socket);
    socket.setNoDelay(true);
    socket.setTimeout(idleMs);
    socket.on('timeout', () => this.calls.size === 0 && this.end());
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', (cause: Error) => this.lost(new NetworkError('POST', url, { cause })));
    socket.once('close', () => this.lost(new NetworkError('POST', url, { cause: new Error('connection closed') })));
    this.unref();
    if (head.length > 0) this.reader.push(head);
  }

  /** Whether a new call may go on this connection now. */
  get usable(): boolean {
    return this.gone === undefined && !this.draining && this.calls.size < this.maxStreams;
  }

  /** Calls in flight. */
  get load(): number {
    return this.calls.size;
  }

  /**
   * Sends one request; settles as the call does (see MuxCall). `deadline`
   * (epoch ms) is when its budget of `timeoutMs` ends, when it began before
   * now; a call with one gets its own timer, not `queue`'s.
   */
  call(
    headers: Readonly<Record<string, string>>,
    body: Uint8Array,
    timeoutMs: number,
    maxBytes: number,
    signal: AbortSignal | undefined,
    queue: DeadlineQueue | undefined,
    clock: Clock,
    deadline?: number,
  ): Promise<WireSuccess<RpcReply>> {
    return new Promise<WireSuccess<RpcReply>>((resolve, reject) => {
      if (!this.usable) {
        reject(this.gone ?? new SovError('UNAVAILABLE', `The connection to ${this.url} takes no more calls`));
        return;
      }
      let frame: Buffer;
      const stream = this.streamId();
      try {
        frame = requestFrame(stream, headers, body);
      } catch (e) {
        reject(new SovError('INVALID_INPUT', (e as Error).message));
        return;
      }
      if (!this.referenced) this.ref();
      const ends = deadline ?? clock.now() + timeoutMs;
      this.calls.set(stream, new MuxCall(this, stream, ends, timeoutMs, maxBytes, signal, deadline === undefined ? queue : undefined, clock, resolve, reject));
      this.writer.write(frame);
    });
  }

  /** Tells the receiver a call is given up; its answer, if it comes, is dropped. */
  cancel(stream: number): void {
    if (!this.calls.delete(stream)) return;
    if (this.gone === undefined) this.writer.write(cancelFrame(stream));
    this.settled();
  }

  head(type: number, stream: number, length: number): boolean {
    if (type === FRAME_RESPONSE) {
      const call = this.calls.get(stream);
      // An answer to a call given up: skipped unread.
      if (!call) return false;
      if (length - (FRAME_HEAD - 4) - 2 > call.maxBytes) {
        this.calls.delete(stream);
        call.fail(new SovError('RESPONSE_TOO_LARGE', `POST ${this.url} answered a body larger than ${call.maxBytes} bytes (it announces ${length - (FRAME_HEAD - 2)} bytes)`));
        this.settled();
        return false;
      }
      return true;
    }
    if (type === FRAME_GOAWAY && length <= MAX_GOAWAY_BYTES) return true;
    this.broken(`a receiver sends no frames of type ${type}${type === FRAME_GOAWAY ? ` as large as ${length} bytes` : ''}`);
    return false;
  }

  frame(type: number, stream: number, payload: Buffer): void {
    if (payload.length < 2) return this.broken('a frame without its status');
    const status = payload.readUInt16BE(0);
    if (type === FRAME_GOAWAY) {
      // No new calls; those in flight get their answers until the receiver closes.
      this.draining = true;
      this.goAway = replyError(status, payload.toString('utf8', 2), this.url);
      this.onGone?.();
      return;
    }
    const call = this.calls.get(stream);
    if (!call) return;
    this.calls.delete(stream);
    call.complete(status, payload.toString('utf8', 2));
    this.settled();
  }

  malformed(reason: string): void {
    this.broken(reason);
  }

  /** Why the receiver said goaway, if it did. */
  goAway: Error | undefined;

  /** Stops taking calls; resolves once those in flight have settled and the connection is closed. */
  close(): Promise<void> {
    this.draining = true;
    if (this.gone !== undefined) return Promise.resolve();
    if (this.calls.size === 0) {
      this.end();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.drained = () => {
        this.end();
        resolve();
      };
    });
  }

  /** Closes the connection now; calls in flight fail with NETWORK_ERROR. */
  destroy(): void {
    this.socket.destroy();
  }

  private end(): void {
    this.draining = true;
    this.socket.end();
    // A receiver that never closes its side is not waited for.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private broken(reason: string): void {
    this.lost(new NetworkError('POST', this.url, { cause: new Error(`sov-mux framing broken: ${reason}`) }));
    this.socket.destroy();
  }

  private lost(error: Error): void {
    if (this.gone !== undefined) return;
    this.gone = this.goAway ?? error;
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.fail(error);
    this.onGone?.();
    this.drained?.();
  }

  /** A call settled: an idle connection no longer holds the process open, and a closing one closes. */
  private settled(): void {
    if (this.calls.size > 0) return;
    this.unref();
    if (this.drained) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
    }
  }

  private ref(): void {
    this.referenced = true;
    this.socket.ref();
  }

  private unref(): void {
    this.referenced = false;
    this.socket.unref();
  }

  private streamId(): number {
    let id = this.nextStream;
    while (this.calls.has(id)) id = id === MAX_STREAM_ID ? 1 : id + 1;
    this.nextStream = id === MAX_STREAM_ID ? 1 : id + 1;
    return id;
  }
}

/** The error a goaway frame carries. */
function replyError(status: number, text: string, url: string): Error {
  try {
    replyOf(status, text, undefined, url);
  } catch (e) {
    return e as Error;
  }
  return new RemoteError({ code: 'UNAVAILABLE', message: 'The receiver closed the connection', status: 503, method: 'POST', url });
}
