import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '@sov/core';
import type { Fault } from './fault';

/** Plays one fault on an exchange; `answer` sends the normal reply. */
export function applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse, answer: () => void, clock: Clock, timers: Set<unknown>): void {
  switch (fault.type) {
    case 'none':
      return answer();
    case 'latency': {
      const t = clock.setTimeout(() => {
        timers.delete(t);
        answer();
      }, fault.ms);
      timers.add(t);
      return;
    }
    case 'error': {
      const code = fault.code ?? (fault.status === 429 ? 'RATE_LIMITED' : fault.status >= 500 ? 'UNAVAILABLE' : 'INVALID_INPUT');
      const text = JSON.stringify({ success: false, error: { code, message: fault.message ?? `Injected fault: ${fault.status} ${code}` } });
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
      if (fault.retryAfterSec !== undefined) headers['retry-after'] = String(fault.retryAfterSec);
      res.writeHead(fault.status, headers);
      res.end(text);
      return;
    }
    case 'drop':
      req.socket.destroy();
      return;
    case 'hang':
      // Keep the exchange open; close() cuts it.
      return;
  }
}
