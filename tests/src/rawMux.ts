import { connect, type Socket } from 'node:net';

/**
 * sov-mux/1 as its documentation states it, written apart from @sov/core's
 * codec on purpose: these frames are what any other implementation (or an
 * attacker) would send, and the receiver is tested against them.
 *
 * u32 length of what follows | u8 type | u32 stream id | payload
 */
export const REQUEST = 1;
export const RESPONSE = 2;
export const CANCEL = 3;
export const GOAWAY = 4;

function frame(type: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt32BE(5 + payload.length, 0);
  head[4] = type;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** A request frame: u16 header bytes, the headers as HTTP/1.1 lines (`name: value` CRLF), the body. */
export function requestFrame(stream: number, headers: Record<string, string>, body: Buffer | string): Buffer {
  return rawRequestFrame(stream, Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join(''), body);
}

/** A request frame with a header block exactly as given (well-formed or not). */
export function rawRequestFrame(stream: number, block: string, body: Buffer | string): Buffer {
  const lines = Buffer.from(block);
  const size = Buffer.alloc(2);
  size.writeUInt16BE(lines.length, 0);
  return frame(REQUEST, stream, Buffer.concat([size, lines, Buffer.from(body)]));
}

/** A frame with a status and a text (response, goaway): what a receiver sends, never a caller. */
export function statusFrame(type: number, stream: number, status: number, text: string): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(status, 0);
  return frame(type, stream, Buffer.concat([head, Buffer.from(text)]));
}

export function cancelFrame(stream: number): Buffer {
  return frame(CANCEL, stream, Buffer.alloc(0));
}

/** A frame the receiver sent, decoded. */
export interface SeenFrame {
  type: number;
  stream: number;
  status: number;
  body: { success?: boolean; result?: unknown; error?: { code: string; message: string } } | undefined;
}

/** A hand-driven sov-mux caller on a raw socket: what a hostile or broken peer can send, and what it gets back. */
export class RawMux {
  readonly frames: SeenFrame[] = [];
  closed = false;
  private waiters: Array<() => void> = [];
  private buffered = Buffer.alloc(0);
  private readonly closing: Promise<void>;

  private constructor(
    readonly socket: Socket,
    /** The head of the receiver's answer to the upgrade (status line and headers). */
    readonly answer: string,
    rest: Buffer,
  ) {
    this.closing = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => {
      this.closed = true;
      this.wake();
    });
    if (answer.startsWith('HTTP/1.1 101')) {
      socket.on('data', (chunk: Buffer) => this.read(chunk));
      if (rest.length > 0) this.read(rest);
    }
  }

  /** Connects to an agent endpoint and sends `request` (by default the sov-mux upgrade). */
  static async open(url: string, request?: string): Promise<RawMux> {
    const { host, port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(request ?? `GET /sov/mux HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: sov-mux/1\r\n\r\n`);
    const { head, rest } = await new Promise<{ head: string; rest: Buffer }>((resolve) => {
      let got = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        resolve({ head: got.toString('latin1', 0, end), rest: got.subarray(end + 4) });
      };
      socket.on('data', onData);
      socket.once('close', () => resolve({ head: got.toString('latin1'), rest: Buffer.alloc(0) }));
    });
    return new RawMux(socket, head, rest);
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  request(stream: number, body: unknown, headers: Record<string, string> = {}): void {
    this.send(requestFrame(stream, headers, JSON.stringify(body)));
  }

  /** The answer on `stream` (the goaway, for stream 0), once it comes. */
  async on(stream: number): Promise<SeenFrame> {
    for (;;) {
      const found = this.frames.find((f) => f.stream === stream);
      if (found) return found;
      if (this.closed) throw new Error(`connection closed before an answer on stream ${stream}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  whenClosed(): Promise<void> {
    return this.closing;
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const total = 4 + this.buffered.readUInt32BE(0);
      if (this.buffered.length < total) break;
      const one = this.buffered.subarray(0, total);
      this.buffered = this.buffered.subarray(total);
      const text = one.toString('utf8', 11);
      this.frames.push({
        type: one[4]!,
        stream: one.readUInt32BE(5),
        status: total >= 11 ? one.readUInt16BE(9) : 0,
        body: text ? (JSON.parse(text) as SeenFrame['body']) : undefined,
      });
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
