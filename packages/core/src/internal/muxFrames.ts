import type { Socket } from 'node:net';

/**
 * sov-mux/1: many agent calls in flight on one connection, as Moleculer's
 * transporters and HTTP/2 multiplex them, without HTTP/2's cost. A caller
 * upgrades an HTTP/1.1 connection to the agent's endpoint (`GET /sov/mux`,
 * `Upgrade: sov-mux/1`); from then on both sides speak frames:
 *
 * ```
 * u32 length of what follows | u8 type | u32 stream id | payload
 * REQUEST  (1): u16 header bytes, the headers (`name: value` lines, each ended by CRLF, as HTTP/1.1's), the body (JSON)
 * RESPONSE (2): u16 HTTP status, the body (the wire reply, JSON)
 * CANCEL   (3): nothing: the caller gave up on the stream
 * GOAWAY   (4): u16 HTTP status, a wire failure (JSON): the connection closes after it
 * ```
 *
 * A request frame carries the same authentication headers as the HTTP
 * request it stands for (an RFC 9421 signature per request, under a session
 * or by the caller's key), and its receiver verifies it the same way before
 * anything else: the transport adds no trust of its own.
 */
export const MUX_PROTOCOL = 'sov-mux/1';
/** The route a caller upgrades: its request route's sibling. */
export const MUX_PATH = '/sov/mux';
/** The 101 answer's header that says how many streams the receiver serves at once on one connection. */
export const MUX_MAX_STREAMS_HEADER = 'sov-mux-max-streams';

export const FRAME_REQUEST = 1;
export const FRAME_RESPONSE = 2;
export const FRAME_CANCEL = 3;
export const FRAME_GOAWAY = 4;

/** Bytes before a frame's payload: length, type, stream id. */
export const FRAME_HEAD = 9;
/**
 * Frames coalesced into one write at most (see FrameWriter). Measured with
 * the peer benchmark at 64 calls in flight on 2 cores: 4 and 8 cost a write
 * every few calls, 64 (no cap) moves in lock-step bursts; 16 and 32 keep both
 * processes busy at about a sixteenth of a write per call.
 */
const MAX_BATCH = 16;
/** Largest stream id: ids count up from 1 and wrap back to 1. */
export const MAX_STREAM_ID = 0xffffffff;

/**
 * Encodes a request frame: the headers as HTTP/1.1 writes them (`name: value`
 * CRLF, names lowercased), then the body. `content-type` is left out: a
 * request frame's body is JSON. Throws a RangeError for a value holding a
 * line break (it would end its line early) and for a header block over
 * 65535 bytes.
 */
export function requestFrame(stream: number, headers: Readonly<Record<string, string>>, body: Uint8Array): Buffer {
  let block = '';
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'content-type') continue;
    const value = headers[name]!;
    if (value.includes('\n') || value.includes('\r')) throw new RangeError(`sov-mux request header ${lower} holds a line break`);
    block += `${lower}: ${value}\r\n`;
  }
  const headerBytes = Buffer.byteLength(block);
  if (headerBytes > 0xffff) throw new RangeError(`sov-mux request headers are ${headerBytes} bytes, over 65535`);
  const frame = Buffer.allocUnsafe(FRAME_HEAD + 2 + headerBytes + body.length);
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = FRAME_REQUEST;
  frame.writeUInt32BE(stream, 5);
  frame.writeUInt16BE(headerBytes, 9);
  frame.write(block, 11, 'utf8');
  frame.set(body, 11 + headerBytes);
  return frame;
}

/** Encodes a response or goaway frame: a status and a JSON text. */
export function replyFrame(type: typeof FRAME_RESPONSE | typeof FRAME_GOAWAY, stream: number, status: number, text: string): Buffer {
  const bytes = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(FRAME_HEAD + 2 + bytes);
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = type;
  frame.writeUInt32BE(stream, 5);
  frame.writeUInt16BE(status, 9);
  frame.write(text, 11, 'utf8');
  return frame;
}

/** Encodes a cancel frame. */
export function cancelFrame(stream: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEAD);
  frame.writeUInt32BE(FRAME_HEAD - 4, 0);
  frame[4] = FRAME_CANCEL;
  frame.writeUInt32BE(stream, 5);
  return frame;
}

/** What a frame reader hands on. */
export interface FrameSink {
  /**
   * A frame's head has arrived (`length`: the bytes after the length field).
   * Answer false to have its payload skipped unread (too large for its
   * stream); the reader then calls nothing else for it.
   */
  head(type: number, stream: number, length: number): boolean;
  /** A whole frame accepted by `head`; `payload` is a view of the bytes received, not a copy. */
  frame(type: number, stream: number, payload: Buffer): void;
  /** The byte stream broke the framing (a length under the head's size): nothing after it can be read. */
  malformed(reason: string): void;
}

/**
 * Splits a byte stream into frames. Frames that arrive whole inside one
 * chunk are handed on as views of it, with no copy; a frame split across
 * chunks is joined once it is complete; a refused frame's payload is
 * skipped as it arrives, never buffered.
 */
export class FrameReader {
  /** The start of a frame split across chunks, and how many bytes of it are here. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The whole size of the frame being gathered, once its head is read (0 before). */
  private need = 0;
  private type = 0;
  private stream = 0;
  /** Payload bytes still to skip of a refused frame. */
  private skipping = 0;
  private broken = false;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.broken) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, chunk.length - offset);
        this.skipping -= n;
        offset += n;
      } else if (this.pendingBytes === 0) {
        offset = this.fromChunk(chunk, offset);
      } else if (this.need === 0) {
        // Gathering a split head: it is read once its nine bytes are here.
        const take = Math.min(FRAME_HEAD - this.pendingBytes, chunk.length - offset);
        this.pending.push(chunk.subarray(offset, offset + take));
        this.pendingBytes += take;
        offset += take;
        if (this.pendingBytes < FRAME_HEAD) return;
        const head = Buffer.concat(this.pending, FRAME_HEAD);
        this.pending = [];
        this.pendingBytes = 0;
        if (!this.readHead(head, 0)) continue;
        this.pending = [head];
        this.pendingBytes = FRAME_HEAD;
        if ((this.need as number) === FRAME_HEAD) this.deliver();
      } else {
        const take = Math.min(this.need - this.pendingBytes, chunk.length - offset);
        this.pending.push(chunk.subarray(offset, offset + take));
        this.pendingBytes += take;
        offset += take;
        if (this.pendingBytes === this.need) this.deliver();
      }
    }
  }

  /** Reads whole frames straight out of `chunk` from `offset`; keeps a split one's start. Returns where it stopped. */
  private fromChunk(chunk: Buffer, offset: number): number {
    while (offset < chunk.length) {
      const left = chunk.length - offset;
      if (left < FRAME_HEAD) {
        this.pending = [chunk.subarray(offset)];
        this.pendingBytes = left;
        return chunk.length;
      }
      if (!this.readHead(chunk, offset)) return this.broken ? chunk.length : offset + FRAME_HEAD;
      if (left < this.need) {
        this.pending = [chunk.subarray(offset)];
        this.pendingBytes = left;
        return chunk.length;
      }
      const end = offset + this.need;
      this.need = 0;
      this.sink.frame(this.type, this.stream, chunk.subarray(offset + FRAME_HEAD, end));
      offset = end;
    }
    return offset;
  }

  /** Reads a head at `offset`; false when the frame is refused (its payload is then skipped) or the framing broke. */
  private readHead(buffer: Buffer, offset: number): boolean {
    const length = buffer.readUInt32BE(offset);
    if (length < FRAME_HEAD - 4) {
      this.broken = true;
      this.sink.malformed(`a frame of ${length} bytes is shorter than its head`);
      return false;
    }
    this.type = buffer[offset + 4]!;
    this.stream = buffer.readUInt32BE(offset + 5);
    if (!this.sink.head(this.type, this.stream, length)) {
      this.skipping = length - (FRAME_HEAD - 4);
      return false;
    }
    this.need = length + 4;
    return true;
  }

  private deliver(): void {
    const frame = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.need);
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
    this.sink.frame(this.type, this.stream, frame.subarray(FRAME_HEAD));
  }
}

/**
 * Writes frames to a socket, coalescing the frames written in one turn of
 * the event loop into one system call (cork, then uncork on the next tick),
 * up to `maxBatch` frames: a longer burst leaves in slices, so that the peer
 * starts on the first frames while the rest are still being made. Without
 * the cap, 64 calls in flight move in lock-step bursts (one side busy while
 * the other waits for the whole burst), which halves the throughput of two
 * processes on two cores.
 */
export class FrameWriter {
  private batched = 0;
  private readonly uncork = (): void => {
    if (this.batched === 0) return;
    this.batched = 0;
    this.socket.uncork();
  };

  constructor(
    private readonly socket: Socket,
    private readonly maxBatch = MAX_BATCH,
  ) {}

  write(frame: Buffer): void {
    if (this.socket.destroyed) return;
    if (this.batched === 0) {
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(frame);
    if (++this.batched >= this.maxBatch) this.uncork();
  }
}
