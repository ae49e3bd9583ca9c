import { echoAgent, waitFor } from './muxEcho';
import { CANCEL, GOAWAY, RESPONSE, RawMux, cancelFrame, rawRequestFrame, requestFrame, statusFrame } from './rawMux';

/**
 * The receiver's side of sov-mux/1 against frames written by hand (rawMux.ts
 * encodes them from the protocol's description, not with @sov/core's
 * codec): every refusal of a broken or hostile caller, the limits, and
 * shutdown.
 */
describe('sov-mux receiver: what a broken or hostile caller gets', () => {
  let peer: Awaited<ReturnType<typeof echoAgent>>;
  beforeAll(async () => {
    peer = await echoAgent({ bodyLimit: 4096 });
  });
  afterAll(() => peer.agent.shutdown());

  it('switches protocols and announces its stream bound', async () => {
    const raw = await RawMux.open(peer.url);
    expect(raw.answer).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
    expect(raw.answer.toLowerCase()).toContain('sov-mux-max-streams: 1024');
    raw.request(1, { service: 'x', params: { tag: 'raw' } });
    expect(await raw.on(1)).toMatchObject({ type: RESPONSE, status: 200, body: { success: true, result: { echo: 'raw' } } });
    raw.close();
  });

  it.each([
    ['a frame shorter than its head', () => Buffer.from([0, 0, 0, 2, 1, 0, 0, 0, 1]), /shorter than its head/],
    ['a frame type a caller never sends', () => statusFrame(RESPONSE, 9, 200, '{}'), /a caller sends no frames of type 2/],
    ['a goaway from the caller', () => statusFrame(GOAWAY, 0, 200, '{}'), /type 4/],
    ['a request on stream 0', () => requestFrame(0, {}, '{}'), /stream 0/],
    ['a request without its header length', () => Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]), /without its header length/],
    ['a request shorter than its headers', () => Buffer.from([0, 0, 0, 8, 1, 0, 0, 0, 3, 0, 50, 123]), /shorter than its headers/],
  ])('answers %s with a goaway (MALFORMED_REQUEST) and closes', async (_name, frame, reason) => {
    const raw = await RawMux.open(peer.url);
    raw.send(frame());
    const goaway = await raw.on(0);
    expect(goaway).toMatchObject({ type: GOAWAY, status: 400, body: { success: false, error: { code: 'MALFORMED_REQUEST' } } });
    expect((goaway.body as { error: { message: string } }).error.message).toMatch(reason);
    await raw.whenClosed();
  });

  it('answers a stream id used again while in flight with a goaway, and aborts what was in flight', async () => {
    const raw = await RawMux.open(peer.url);
    raw.request(5, { service: 'x', params: { ms: 3000, tag: 'first' } });
    await new Promise((r) => setTimeout(r, 50));
    raw.request(5, { service: 'x', params: { tag: 'again' } });
    expect(await raw.on(0)).toMatchObject({ body: { error: { code: 'MALFORMED_REQUEST', message: expect.stringContaining('stream 5 was used again') as unknown } } });
    await raw.whenClosed();
    await waitFor(() => peer.aborted.includes('first:MALFORMED_REQUEST'));
  });

  it('refuses a bad request on its own stream and goes on serving the others', async () => {
    const raw = await RawMux.open(peer.url);
    raw.send(requestFrame(1, {}, '{"a":'));
    // Header blocks that are not "name: value" CRLF lines: no colon, no final CRLF, a name that is no token.
    raw.send(rawRequestFrame(2, 'x-sov-receiver did:key:z\r\n', '{}'));
    raw.send(rawRequestFrame(3, 'x-sov-receiver: did:key:z', '{}'));
    raw.send(rawRequestFrame(10, 'X Sov: a\r\n', '{}'));
    raw.send(requestFrame(4, {}, Buffer.alloc(5000, 0x20)));
    raw.request(5, [1, 2]);
    raw.request(6, { service: 'x', params: { tag: 'fine' } });
    expect(await raw.on(1)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_JSON' } } });
    for (const stream of [2, 3, 10]) {
      expect(await raw.on(stream)).toMatchObject({ status: 400, body: { error: { code: 'MALFORMED_REQUEST', message: expect.stringContaining('"name: value" lines') as unknown } } });
    }
    expect(await raw.on(4)).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is larger than 4096 bytes' } } });
    expect(await raw.on(5)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', message: 'Request body must be a JSON object' } } });
    expect(await raw.on(6)).toMatchObject({ status: 200, body: { result: { echo: 'fine' } } });
    expect(raw.closed).toBe(false);
    raw.close();
  });

  it('skips a request far over the body limit as it arrives, without holding it, and answers PAYLOAD_TOO_LARGE', async () => {
    const raw = await RawMux.open(peer.url);
    const huge = requestFrame(1, {}, Buffer.alloc(8 * 1024 * 1024, 0x20));
    for (let at = 0; at < huge.length; at += 65536) raw.send(huge.subarray(at, at + 65536));
    raw.request(2, { service: 'x', params: { tag: 'after-huge' } });
    expect(await raw.on(1)).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect(await raw.on(2)).toMatchObject({ status: 200, body: { result: { echo: 'after-huge' } } });
    raw.close();
  });

  it('refuses headers over 16 KiB on their stream', async () => {
    const raw = await RawMux.open(peer.url);
    raw.request(1, { service: 'x' }, { 'x-sov-pad': 'p'.repeat(17_000) });
    expect(await raw.on(1)).toMatchObject({ status: 431, body: { error: { code: 'HEADERS_TOO_LARGE' } } });
    raw.close();
  });

  it('serves at most 1024 calls at once on one connection: the next is refused with TOO_MANY_IN_FLIGHT', async () => {
    const raw = await RawMux.open(peer.url);
    for (let s = 1; s <= 1025; s++) raw.request(s, { service: 'x', params: { ms: 400, tag: `s${s}` } });
    expect(await raw.on(1025)).toMatchObject({ status: 429, body: { error: { code: 'TOO_MANY_IN_FLIGHT' } } });
    expect(await raw.on(1)).toMatchObject({ status: 200 });
    raw.close();
  });

  it('gives a cancelled stream back to the caller at once: its handler is told, its late answer is not sent, and its id may carry a new call', async () => {
    const raw = await RawMux.open(peer.url);
    raw.request(8, { service: 'x', params: { ms: 3000, tag: 'cancelled' } });
    await new Promise((r) => setTimeout(r, 50));
    raw.send(cancelFrame(8));
    await waitFor(() => peer.aborted.includes('cancelled:CANCELLED'));
    raw.request(8, { service: 'x', params: { tag: 'reused' } });
    expect(await raw.on(8)).toMatchObject({ status: 200, body: { result: { echo: 'reused' } } });
    await new Promise((r) => setTimeout(r, 50));
    expect(raw.frames.filter((f) => f.stream === 8)).toHaveLength(1);
    expect(raw.closed).toBe(false);
    raw.close();
  });

  it('treats a cancel of an unknown stream as nothing', async () => {
    const raw = await RawMux.open(peer.url);
    raw.send(cancelFrame(77));
    raw.request(1, { service: 'x', params: { tag: 'still' } });
    expect(await raw.on(1)).toMatchObject({ status: 200, body: { result: { echo: 'still' } } });
    expect(raw.frames.some((f) => f.type === CANCEL)).toBe(false);
    raw.close();
  });

  it('survives random bytes after the upgrade, and keeps serving other callers', async () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 30; round++) {
      const raw = await RawMux.open(peer.url);
      const junk = Buffer.alloc(1 + Math.floor(next() * 4000));
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(next() * 256);
      // Often a plausible head, so that the reader gets past the length.
      if (round % 2 === 0) junk.writeUInt32BE(Math.min(junk.length - 4, Math.floor(next() * 64)), 0);
      raw.send(junk);
      raw.close();
    }
    const raw = await RawMux.open(peer.url);
    raw.request(1, { service: 'x', params: { tag: 'alive' } });
    expect(await raw.on(1)).toMatchObject({ status: 200, body: { result: { echo: 'alive' } } });
    raw.close();
  });

  it('refuses an upgrade to another protocol or by another method in the wire format, and serves a declined GET as HTTP/1.1', async () => {
    const host = new URL(peer.url).host;
    const ws = await RawMux.open(peer.url, `POST /sov/mux HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n`);
    expect(ws.answer).toMatch(/^HTTP\/1\.1 400 /);
    const wrongMethod = await RawMux.open(peer.url, `POST /sov/mux HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: sov-mux/1\r\nContent-Length: 0\r\n\r\n`);
    expect(wrongMethod.answer).toMatch(/^HTTP\/1\.1 400 /);
    const noHost = await RawMux.open(peer.url, `GET /sov/mux HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: sov-mux/1\r\n\r\n`);
    expect(noHost.answer).toMatch(/^HTTP\/1\.1 400 /);
    // curl --http2 on plain http asks for h2c: the endpoint answers over HTTP/1.1 instead.
    const h2c = await RawMux.open(peer.url, `GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`);
    expect(h2c.answer).toMatch(/^HTTP\/1\.1 200 /);
    for (const r of [ws, wrongMethod, noHost, h2c]) r.close();
  });
});

describe('sov-mux receiver: shutdown', () => {
  it('answers SHUTTING_DOWN once intake stops, waits for the calls in flight, and tells open connections to go away', async () => {
    const peer = await echoAgent();
    const raw = await RawMux.open(peer.url);
    raw.request(1, { service: 'x', params: { ms: 300, tag: 'draining' } });
    await new Promise((r) => setTimeout(r, 50));
    const stopping = peer.agent.shutdown();
    await new Promise((r) => setTimeout(r, 50));
    raw.request(2, { service: 'x', params: { tag: 'too-late' } });
    expect(await raw.on(2)).toMatchObject({ status: 503, body: { error: { code: 'SHUTTING_DOWN' } } });
    expect(await raw.on(1)).toMatchObject({ status: 200, body: { result: { echo: 'draining' } } });
    await stopping;
    expect(await raw.on(0)).toMatchObject({ type: GOAWAY, status: 503, body: { error: { code: 'SHUTTING_DOWN' } } });
    await raw.whenClosed();
  });
});

