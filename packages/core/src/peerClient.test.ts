import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ManualClock } from './internal/manualClock';
import { isCancelledError } from './errors/cancelledError';
import { PeerClient } from './peerClient';

type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A plain node:http peer whose behaviour each test sets; counts its requests,
 * its open sockets, and the open sockets that carried a request (undici may
 * open a fresh idle connection after one is cut: that one carried nothing).
 */
class Peer {
  requests = 0;
  bytesWritten = 0;
  readonly sockets = new Set<Socket>();
  readonly serving = new Set<Socket>();
  behaviour: Behaviour = (_req, res) => res.end(JSON.stringify({ success: true, result: 'ok' }));
  private closeWaiters: Array<() => void> = [];
  private requestWaiters: Array<() => void> = [];

  private constructor(readonly server: Server) {}

  static async start(): Promise<Peer> {
    const server = createServer();
    const peer = new Peer(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      peer.requests++;
      peer.serving.add(req.socket);
      req.resume();
      req.on('end', () => {
        peer.behaviour(req, res);
        for (const w of peer.requestWaiters.splice(0)) w();
      });
    });
    server.on('connection', (socket: Socket) => {
      peer.sockets.add(socket);
      socket.on('close', () => {
        peer.sockets.delete(socket);
        peer.serving.delete(socket);
        if (peer.serving.size === 0) for (const w of peer.closeWaiters.splice(0)) w();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return peer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once the peer has read a whole request and started its behaviour. */
  nextRequest(): Promise<void> {
    return new Promise((r) => this.requestWaiters.push(r));
  }

  /** Resolves once every socket that carried a request is closed. */
  servingClosed(): Promise<void> {
    return this.serving.size === 0 ? Promise.resolve() : new Promise((r) => this.closeWaiters.push(r));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** Starts a body and never finishes it. */
const slowBody: Behaviour = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"success":true,"result":"');
};

// The HTTP transport's own behaviour (sov-mux has its own suite in muxTransport.test.ts).
describe('PeerClient deadlines, body cap and cancellation', () => {
  let peer: Peer;
  beforeEach(async () => {
    peer = await Peer.start();
  });
  afterEach(async () => {
    await peer.stop();
  });

  it('times out a reply whose body never ends, and closes its connection', async () => {
    const clock = new ManualClock({ start: 0 });
    const client = new PeerClient({ transport: 'http', clock, timeoutMs: 500 });
    peer.behaviour = slowBody;
    const started = peer.nextRequest();
    const call = client.call(peer.url, { service: 'x' });
    const outcome = call.catch((e: unknown) => e);
    await started;
    clock.advance(499);
    clock.advance(1);
    expect(await outcome).toMatchObject({ code: 'TIMEOUT', name: 'TimeoutError', message: `POST ${peer.url}/rpc timed out after 500 ms` });
    await peer.servingClosed();
    expect(peer.serving.size).toBe(0);
    await client.close();
  });

  it('times out a peer that never answers at all (headers included)', async () => {
    const clock = new ManualClock({ start: 0 });
    const client = new PeerClient({ transport: 'http', clock, timeoutMs: 200 });
    peer.behaviour = () => undefined;
    const started = peer.nextRequest();
    const outcome = client.call(peer.url, { service: 'x' }).catch((e: unknown) => e);
    await started;
    clock.advance(200);
    expect(await outcome).toMatchObject({ code: 'TIMEOUT' });
    await peer.servingClosed();
    await client.close();
  });

  it('refuses a never-ending body once it passes the cap, and stops reading', async () => {
    const client = new PeerClient({ transport: 'http', maxResponseBytes: 64 * 1024 });
    const chunk = Buffer.alloc(16 * 1024, 'a');
    peer.behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) peer.bytesWritten += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    await expect(client.call(peer.url, { service: 'x' })).rejects.toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
      message: expect.stringContaining('larger than 65536 bytes') as unknown,
    });
    await peer.servingClosed();
    // The peer was cut off: it could not push more than the cap plus what the socket buffers held.
    expect(peer.bytesWritten).toBeLessThan(16 * 1024 * 1024);
    await client.close();
  });

  it('refuses a body whose Content-Length is over the cap before reading it, and a per-call cap overrides the client', async () => {
    const client = new PeerClient({ transport: 'http', maxResponseBytes: 1024 * 1024 });
    peer.behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 });
      res.write('{');
    };
    await expect(client.call(peer.url, { service: 'x' })).rejects.toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
      message: expect.stringContaining('announces 10485760 bytes') as unknown,
    });
    await peer.servingClosed();
    peer.behaviour = (_req, res) => res.end(JSON.stringify({ success: true, result: 'x'.repeat(200) }));
    await expect(client.call(peer.url, { service: 'x' }, { maxResponseBytes: 100 })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(await client.call(peer.url, { service: 'x' })).toMatchObject({ success: true });
    await client.close();
  });

  it("ends a call with CANCELLED when the caller aborts mid-body, and closes its connection", async () => {
    const client = new PeerClient({ transport: 'http' });
    peer.behaviour = slowBody;
    const controller = new AbortController();
    const started = peer.nextRequest();
    const outcome = client.call(peer.url, { service: 'x' }, { signal: controller.signal }).catch((e: unknown) => e);
    await started;
    controller.abort();
    const error = await outcome;
    expect(error).toMatchObject({ code: 'CANCELLED', status: 499, message: `POST ${peer.url}/rpc was cancelled by the caller` });
    expect(isCancelledError(error)).toBe(true);
    await peer.servingClosed();
    await client.close();
  });

  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    const client = new PeerClient({ transport: 'http' });
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    await expect(client.call(peer.url, { service: 'x' }, { signal: controller.signal })).rejects.toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('user left') as unknown,
    });
    expect(peer.requests).toBe(0);
    expect(peer.sockets.size).toBe(0);
    await client.close();
  });

  it("reports a signal that fired for a timeout as TIMEOUT, and a SovError reason as itself", async () => {
    const client = new PeerClient({ transport: 'http' });
    const timedOut = new AbortController();
    timedOut.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    await expect(client.call(peer.url, { service: 'x' }, { signal: timedOut.signal })).rejects.toMatchObject({ code: 'TIMEOUT' });
    peer.behaviour = slowBody;
    const controller = new AbortController();
    const started = peer.nextRequest();
    const outcome = client.call(peer.url, { service: 'x' }, { signal: controller.signal }).catch((e: unknown) => e);
    await started;
    const { SovError } = await import('./errors/sovError');
    const reason = new SovError('SHUTTING_DOWN', 'agent stopping');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    await client.close();
  });

  it('keeps a connection alive across calls that succeed, with no timer left behind', async () => {
    const clock = new ManualClock({ start: 0 });
    const client = new PeerClient({ transport: 'http', clock, timeoutMs: 1000 });
    expect(await client.call(peer.url, { service: 'x' })).toMatchObject({ success: true, result: 'ok' });
    expect(await client.call(peer.url, { service: 'x' })).toMatchObject({ success: true, result: 'ok' });
    clock.advance(5000);
    expect(peer.requests).toBe(2);
    // Neither success cut its connection, and no deadline fired later.
    expect(peer.sockets.size).toBeGreaterThan(0);
    await client.close();
  });

  it('passes the peer\'s code and Retry-After on, and refuses a body that is not JSON', async () => {
    const client = new PeerClient({ transport: 'http' });
    peer.behaviour = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ success: false, error: { code: 'RATE_LIMITED', message: 'slow down' } }));
    };
    await expect(client.call(peer.url, { service: 'x' })).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 3000 });
    peer.behaviour = (_req, res) => res.end('<html>');
    await expect(client.call(peer.url, { service: 'x' })).rejects.toMatchObject({ code: 'REMOTE_ERROR', message: expect.stringContaining('invalid JSON body') as unknown });
    await client.close();
  });

  it('says NETWORK_ERROR for a peer that is not there, and refuses a bad budget', async () => {
    const client = new PeerClient({ transport: 'http' });
    await expect(client.call('http://127.0.0.1:1', { service: 'x' })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await expect(client.call(peer.url, { service: 'x' }, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(() => new PeerClient({ maxResponseBytes: -1 })).toThrow(/maxResponseBytes must be a finite number > 0/);
    await client.close();
  });
});

describe('PeerClient connection pool', () => {
  let peer: Peer;
  beforeEach(async () => {
    peer = await Peer.start();
  });
  afterEach(async () => {
    await peer.stop();
  });

  const signer = { keyId: 'k', sign: () => ({ signature: 'sig1=:x:' }) };

  /** Holds every answer until `wanted` requests are in at once (or `waitMs` passed); returns how to read the most seen at once. */
  function holdAnswers(wanted: number, waitMs: number): () => number {
    const waiting: ServerResponse[] = [];
    let most = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      clearTimeout(timer);
      timer = undefined;
      for (const res of waiting.splice(0)) res.end(JSON.stringify({ success: true, result: 'ok' }));
    };
    peer.behaviour = (_req, res) => {
      waiting.push(res);
      most = Math.max(most, waiting.length);
      if (waiting.length >= wanted) release();
      else timer ??= setTimeout(release, waitMs);
    };
    return () => most;
  }

  it('pipelines signed calls over the connections it is given: more requests in at once than connections', async () => {
    const client = new PeerClient({ transport: 'http', signer, connectionsPerPeer: 2, pipelining: 12 });
    const most = holdAnswers(6, 2000);
    const replies = await Promise.all(Array.from({ length: 24 }, (_, i) => client.call(peer.url, { service: 'x', params: i })));
    expect(replies.every((r) => r.result === 'ok')).toBe(true);
    expect(most()).toBeGreaterThanOrEqual(6);
    expect(peer.sockets.size).toBeLessThanOrEqual(2);
    await client.close();
  });

  it('never pipelines unsigned calls (a resend on a new connection could run them twice)', async () => {
    const client = new PeerClient({ transport: 'http', connectionsPerPeer: 1, pipelining: 8 });
    const most = holdAnswers(2, 100);
    await Promise.all(Array.from({ length: 3 }, () => client.call(peer.url, { service: 'x' })));
    expect(most()).toBe(1);
    await client.close();
  });

  it('refuses a pool size or a pipelining depth that is not a number > 0', () => {
    expect(() => new PeerClient({ connectionsPerPeer: 0 })).toThrow(/connectionsPerPeer must be a finite number > 0, got 0/);
    expect(() => new PeerClient({ pipelining: -2 })).toThrow(/pipelining must be a finite number > 0, got -2/);
  });
});
