import type { Socket } from 'node:net';
import { SovError } from '../errors/sovError';
import { InFlight } from './inFlight';
import { FRAME_CANCEL, FRAME_GOAWAY, FRAME_HEAD, FRAME_REQUEST, FRAME_RESPONSE, FrameReader, FrameWriter, replyFrame, type FrameSink } from './muxFrames';

/** A reply ready for the wire: its HTTP status and its JSON text. */
export interface MuxReply {
  status: number;
  text: string;
}

/** What a multiplexed connection needs of the endpoint that accepted it. */
export interface MuxService {
  /** Serves one request as the request route would (verify, parse, handle); never rejects. */
  serve(headers: Record<string, string>, body: Buffer, flight: InFlight): Promise<MuxReply>;
  /** The refusal of a request the connection does not hand on (too large, too many at once, malformed). */
  refusal(error: SovError): MuxReply;
  /** Largest request body, in bytes. */
  readonly bodyLimit: number;
  /** Largest header block of one request, in bytes. */
  readonly headerLimit: number;
  /** Streams served at once on one connection. */
  readonly maxStreams: number;
  /** Close a connection without a stream in flight after this long without a byte, in ms. */
  readonly idleMs: number;
}

/** A header name: an HTTP token, lowercased (as callers send them). */
const HEADER_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;

/**
 * Parses a request's header block (`name: value` lines, each ended by CRLF),
 * or undefined when it is not one. A name sent twice is joined with ", " as
 * HTTP joins repeated fields. The object has no prototype, as node's own
 * request headers.
 */
export function headersOf(text: string): Record<string, string> | undefined {
  const headers = Object.create(null) as Record<string, string>;
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\r\n', start);
    if (end < 0) return undefined;
    const colon = text.indexOf(':', start);
    if (colon <= start || colon > end) return undefined;
    const name = text.slice(start, colon);
    if (!HEADER_NAME.test(name)) return undefined;
    const value = text.slice(colon + 1, end).trim();
    // A lone CR or LF inside a line: what HTTP/1.1 refuses too.
    if (value.includes('\n') || value.includes('\r')) return undefined;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
    start = end + 2;
  }
  return headers;
}

/**
 * The receiver's end of one sov-mux/1 connection (see muxFrames.ts): reads
 * request frames, serves each through the endpoint as soon as it is whole,
 * and answers on its stream as each finishes, in any order. A broken frame
 * stream (a frame shorter than its head, a type a caller never sends, a
 * stream id reused while in flight) gets a GOAWAY and the connection closes;
 * a request over a limit is refused on its stream and the rest go on.
 */
export class MuxServerConnection implements FrameSink {
  private readonly reader = new FrameReader(this);
  private readonly writer: FrameWriter;
  private readonly streams = new Map<number, InFlight>();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly service: MuxService,
    head: Buffer,
  ) {
    this.writer = new FrameWriter(socket);
    socket.setNoDelay(true);
    socket.setTimeout(service.idleMs);
    socket.on('timeout', () => this.streams.size === 0 && socket.destroy());
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.onClose());
    if (head.length > 0) this.reader.push(head);
  }

  /** Streams being served now. */
  get inFlight(): number {
    return this.streams.size;
  }

  head(type: number, stream: number, length: number): boolean {
    if (this.closed) return false;
    if (type === FRAME_REQUEST) {
      if (length - (FRAME_HEAD - 4) > this.service.bodyLimit + this.service.headerLimit + 2) {
        this.answer(stream, this.service.refusal(new SovError('PAYLOAD_TOO_LARGE', `Request body is larger than ${this.service.bodyLimit} bytes`)));
        return false;
      }
      return true;
    }
    if (type === FRAME_CANCEL) return true;
    this.goAway(`a caller sends no frames of type ${type}`);
    return false;
  }

  frame(type: number, stream: number, payload: Buffer): void {
    if (this.closed) return;
    if (type === FRAME_CANCEL) {
      // The stream is the caller's again at once: its handler is told, and its late answer is not sent.
      const flight = this.streams.get(stream);
      if (!flight) return;
      this.streams.delete(stream);
      flight.abort(new SovError('CANCELLED', 'The caller cancelled the call'));
      return;
    }
    if (stream === 0) return this.goAway('a request on stream 0');
    if (this.streams.has(stream)) return this.goAway(`stream ${stream} was used again while in flight`);
    if (payload.length < 2) return this.goAway('a request frame without its header length');
    const headerBytes = payload.readUInt16BE(0);
    if (2 + headerBytes > payload.length) return this.goAway('a request frame shorter than its headers');
    if (this.streams.size >= this.service.maxStreams) {
      this.answer(stream, this.service.refusal(new SovError('TOO_MANY_IN_FLIGHT', `This connection serves at most ${this.service.maxStreams} calls at once`)));
      return;
    }
    if (headerBytes > this.service.headerLimit) {
      this.answer(stream, this.service.refusal(new SovError('HEADERS_TOO_LARGE', `Request headers are larger than ${this.service.headerLimit} bytes`)));
      return;
    }
    const body = payload.subarray(2 + headerBytes);
    if (body.length > this.service.bodyLimit) {
      this.answer(stream, this.service.refusal(new SovError('PAYLOAD_TOO_LARGE', `Request body is larger than ${this.service.bodyLimit} bytes`)));
      return;
    }
    const headers = headersOf(payload.toString('utf8', 2, 2 + headerBytes));
    if (!headers) {
      this.answer(stream, this.service.refusal(new SovError('MALFORMED_REQUEST', 'Request headers must be "name: value" lines, each ended by CRLF, names lowercase')));
      return;
    }
    const flight = new InFlight();
    this.streams.set(stream, flight);
    this.service.serve(headers, body, flight).then(
      (reply) => this.done(stream, flight, reply),
      () => this.done(stream, flight, this.service.refusal(new SovError('INTERNAL', 'Internal error'))),
    );
  }

  malformed(reason: string): void {
    this.goAway(reason);
  }

  /** Tells the caller the connection ends (`error` on the wire), then closes it; calls in flight are aborted. */
  goAway(reason: string | SovError): void {
    if (this.closed) return;
    const error = typeof reason === 'string' ? new SovError('MALFORMED_REQUEST', `sov-mux framing broken: ${reason}`) : reason;
    this.writer.write(replyFrame(FRAME_GOAWAY, 0, error.status, JSON.stringify(error.toWire())));
    this.closed = true;
    this.abortAll(error);
    this.socket.end();
    // A caller that never reads is not waited for.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private done(stream: number, flight: InFlight, reply: MuxReply): void {
    // Cancelled, or the connection ended: nobody waits for this answer (the stream id may already serve another call).
    if (this.streams.get(stream) !== flight) return;
    this.streams.delete(stream);
    this.answer(stream, reply);
  }

  private answer(stream: number, reply: MuxReply): void {
    if (!this.closed) this.writer.write(replyFrame(FRAME_RESPONSE, stream, reply.status, reply.text));
  }

  private onClose(): void {
    this.closed = true;
    this.abortAll(new SovError('UNAVAILABLE', 'Caller closed the connection'));
  }

  private abortAll(reason: SovError): void {
    for (const flight of this.streams.values()) flight.abort(reason);
    this.streams.clear();
  }
}

