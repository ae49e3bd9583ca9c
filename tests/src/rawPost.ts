import { request as httpRequest } from 'node:http';

/** A JSON answer as a raw client sees it. */
export interface RawAnswer {
  status: number;
  body: { success: boolean; error?: { code: string; message: string }; result?: unknown; session?: Record<string, unknown> };
}

/** POSTs raw bytes with exactly these headers (Host included when given), as an attacker replaying a capture would. */
export function rawPost(url: string, headers: Record<string, string>, body: Uint8Array): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as RawAnswer['body'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
