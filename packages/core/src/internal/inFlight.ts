import type { ServerResponse } from 'node:http';
import { SovError } from '../errors/sovError';

/**
 * A request being served. Its AbortController, and the listener that aborts
 * it when an HTTP caller goes away, are made only if the handler reads the
 * signal. A request that came over a multiplexed connection has no response
 * object: its connection aborts it (the caller cancelled, or left).
 */
export class InFlight {
  private controller: AbortController | undefined;
  private reason: unknown;

  constructor(private readonly res?: ServerResponse) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      const res = this.res;
      if (this.reason !== undefined) this.controller.abort(this.reason);
      else if (res && !res.writableFinished) {
        const socket = res.socket;
        if (!socket || socket.destroyed) this.abort(new SovError('UNAVAILABLE', 'Caller closed the connection'));
        else res.once('close', () => !res.writableFinished && this.abort(new SovError('UNAVAILABLE', 'Caller closed the connection')));
      }
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
