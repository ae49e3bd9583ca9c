import type { Socket } from 'node:net';
import { headersOf } from './muxServer';
import { FRAME_CANCEL, FRAME_HEAD, FRAME_REQUEST, FRAME_RESPONSE, FrameReader, FrameWriter, cancelFrame, replyFrame, requestFrame, type FrameSink } from './muxFrames';

interface Seen {
  type: number;
  stream: number;
  payload: string;
}

/** A sink that records frames; refuses the heads `refuse` says no to. */
function recorder(refuse: (type: number, stream: number, length: number) => boolean = () => false) {
  const frames: Seen[] = [];
  const refused: number[] = [];
  const broken: string[] = [];
  const sink: FrameSink = {
    head: (type, stream, length) => {
      if (refuse(type, stream, length)) {
        refused.push(stream);
        return false;
      }
      return true;
    },
    frame: (type, stream, payload) => frames.push({ type, stream, payload: payload.toString('latin1') }),
    malformed: (reason) => broken.push(reason),
  };
  return { sink, frames, refused, broken };
}

/** A deterministic generator (Park and Miller's minimal standard), so a failing split can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

function frames(): Buffer[] {
  return [
    requestFrame(1, { 'Signature-Input': 'sig1=()', 'x-sov-receiver': 'did:key:z' }, Buffer.from('{"service":"a"}')),
    replyFrame(FRAME_RESPONSE, 2, 200, '{"success":true,"result":"ü"}'),
    cancelFrame(3),
    requestFrame(4, {}, Buffer.alloc(70_000, 0x61)),
    replyFrame(FRAME_RESPONSE, 5, 404, ''),
  ];
}

describe('sov-mux frames', () => {
  it('encodes a request with its headers as HTTP/1.1 lines (names lowercased, no content-type), the header length and the body', () => {
    const frame = requestFrame(7, { 'Content-Digest': 'sha-256=:x:', 'content-type': 'application/json', 'x-sov-receiver': 'did:key:z6' }, Buffer.from('{}'));
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    expect(frame[4]).toBe(FRAME_REQUEST);
    expect(frame.readUInt32BE(5)).toBe(7);
    const headerBytes = frame.readUInt16BE(FRAME_HEAD);
    expect(frame.toString('utf8', 11, 11 + headerBytes)).toBe('content-digest: sha-256=:x:\r\nx-sov-receiver: did:key:z6\r\n');
    expect(frame.toString('utf8', 11 + headerBytes)).toBe('{}');
  });

  it('refuses to encode a header block over 65535 bytes, and a value holding a line break', () => {
    expect(() => requestFrame(1, { 'x-sov-big': 'a'.repeat(70_000) }, Buffer.alloc(0))).toThrow(/over 65535/);
    expect(() => requestFrame(1, { 'x-sov-receiver': 'a\r\nx-sov-receipt: 1' }, Buffer.alloc(0))).toThrow(/x-sov-receiver holds a line break/);
    expect(() => requestFrame(1, { 'x-sov-receiver': 'a\nb' }, Buffer.alloc(0))).toThrow(/line break/);
  });

  it('reads the same frames however the bytes are split, one byte at a time included', () => {
    const bytes = Buffer.concat(frames());
    const whole = recorder();
    new FrameReader(whole.sink).push(bytes);
    expect(whole.frames.map((f) => [f.type, f.stream])).toEqual([
      [FRAME_REQUEST, 1],
      [FRAME_RESPONSE, 2],
      [FRAME_CANCEL, 3],
      [FRAME_REQUEST, 4],
      [FRAME_RESPONSE, 5],
    ]);
    const next = random(15);
    for (let round = 0; round < 200; round++) {
      const split = recorder();
      const reader = new FrameReader(split.sink);
      const oneByte = round === 0;
      for (let at = 0; at < bytes.length; ) {
        const size = oneByte ? 1 : 1 + Math.floor(next() * (next() < 0.5 ? 16 : 20_000));
        reader.push(bytes.subarray(at, at + size));
        at += size;
      }
      expect(split.frames).toEqual(whole.frames);
      expect(split.broken).toEqual([]);
    }
  });

  it('skips a refused frame unread, split or whole, and goes on with the next', () => {
    const bytes = Buffer.concat(frames());
    const next = random(99);
    for (let round = 0; round < 100; round++) {
      const r = recorder((type, stream) => stream === 4 || stream === 2);
      const reader = new FrameReader(r.sink);
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(next() * 9000);
        reader.push(bytes.subarray(at, at + size));
        at += size;
      }
      expect(r.frames.map((f) => f.stream)).toEqual([1, 3, 5]);
      expect(r.refused).toEqual([2, 4]);
    }
  });

  it('stops at a frame shorter than its own head, and reads nothing after it', () => {
    const bad = Buffer.alloc(FRAME_HEAD);
    bad.writeUInt32BE(2, 0);
    const r = recorder();
    const reader = new FrameReader(r.sink);
    reader.push(Buffer.concat([cancelFrame(1), bad, cancelFrame(2)]));
    reader.push(cancelFrame(3));
    expect(r.frames.map((f) => f.stream)).toEqual([1]);
    expect(r.broken).toEqual(['a frame of 2 bytes is shorter than its head']);
  });
});

describe('sov-mux writer', () => {
  /** A socket that counts what reaches the wire: one flush per uncork of a corked batch. */
  function countingSocket() {
    const flushes: number[] = [];
    let pending = 0;
    let corked = 0;
    const socket = {
      destroyed: false,
      cork: () => void corked++,
      uncork: () => {
        corked--;
        if (corked === 0 && pending > 0) {
          flushes.push(pending);
          pending = 0;
        }
      },
      write: () => {
        if (corked > 0) pending++;
        else flushes.push(1);
        return true;
      },
    };
    return { socket: socket as unknown as Socket, flushes };
  }

  it('sends the frames of one tick together, 16 at most in one write', async () => {
    const { socket, flushes } = countingSocket();
    const writer = new FrameWriter(socket);
    for (let i = 0; i < 40; i++) writer.write(cancelFrame(i + 1));
    expect(flushes).toEqual([16, 16]);
    await new Promise((r) => process.nextTick(r));
    expect(flushes).toEqual([16, 16, 8]);
    writer.write(cancelFrame(99));
    await new Promise((r) => process.nextTick(r));
    expect(flushes).toEqual([16, 16, 8, 1]);
  });

  it('writes nothing to a destroyed socket', () => {
    const { socket, flushes } = countingSocket();
    (socket as unknown as { destroyed: boolean }).destroyed = true;
    new FrameWriter(socket).write(cancelFrame(1));
    expect(flushes).toEqual([]);
  });
});

describe('sov-mux header blocks', () => {
  it('reads name: value lines, trims values, joins a repeated name as HTTP does, on an object without a prototype', () => {
    const headers = headersOf('x-sov-receiver:  did:key:z \r\nsignature: sig1=:a:\r\nx-sov-receiver: again\r\n__proto__: x\r\n')!;
    expect(Object.keys(headers)).toEqual(['x-sov-receiver', 'signature', '__proto__']);
    expect(headers['x-sov-receiver']).toBe('did:key:z, again');
    expect(headers.signature).toBe('sig1=:a:');
    // Only a data field, never the object's prototype.
    expect(headers['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(headers)).toBeNull();
    expect(headersOf('')).toEqual({});
  });

  it.each([
    ['a line without a colon', 'signature sig1\r\n'],
    ['a last line without its CRLF', 'signature: sig1'],
    ['an empty name', ': x\r\n'],
    ['a name that is no lowercase token', 'Signature: x\r\n'],
    ['a name with a space', 'x sov: x\r\n'],
    ['a bare LF', 'signature: x\nx-sov-receipt: 1\r\n'],
  ])('refuses %s', (_name, block) => {
    expect(headersOf(block)).toBeUndefined();
  });
});
