import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SovError } from './errors/sovError';

const MAX_SHOWN = 120;
const shown = (text: string): string => (text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text);

/** The status and SovError of an error node's HTTP parser raised on a connection. */
function clientErrorOf(err: Error & { code?: string; reason?: string }): { status: number; error: SovError } {
  const detail = err.reason ? `${err.code ?? 'error'} ${err.reason}` : (err.code ?? err.message);
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: new SovError('HEADERS_TOO_LARGE', 'Request headers (the request line included) are larger than the server accepts') };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: new SovError('TIMEOUT', 'The request did not arrive in time') };
    default:
      return { status: 400, error: new SovError('MALFORMED_REQUEST', `Malformed HTTP request: ${shown(detail)}`) };
  }
}

/** The JSON wire reply written on the raw socket: a complete HTTP/1.1 response that closes the connection. */
function rawWireResponse(status: number, error: SovError): string {
  const body = JSON.stringify(error.toWire());
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n\r\n' +
    body
  );
}

/**
 * Answers what node's HTTP parser refused (over-large headers, conflicting
 * Content-Length and Transfer-Encoding, a bad chunk size ...) in the wire
 * format, on the raw socket when it is still writable and no response has
 * started on it, then closes the connection: a node:http server's
 * `clientError` listener (the agent endpoint's, the registry's).
 *
 * @example
 * server.on('clientError', clientErrorHandler);
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (!socket.writable || started) {
    socket.destroy();
    return;
  }
  const { status, error } = clientErrorOf(err);
  socket.end(rawWireResponse(status, error), () => socket.destroy());
}

/**
 * Answers a request whose `Expect` header is not `100-continue` with 417 in
 * the wire format. Node answers it itself with an empty body unless the
 * server listens for 'checkExpectation'.
 */
export function answerExpectationsInWireFormat(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const expect = String(req.headers.expect ?? '').slice(0, 80);
    const body = JSON.stringify(new SovError('EXPECTATION_FAILED', `Cannot meet Expect: ${JSON.stringify(expect)}; only 100-continue is supported`).toWire());
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
}
