import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { SovError } from '@sov/core';

/** Limits of fetching an agent card from a URL someone gave the registry. */
export interface CardFetchLimits {
  /** @default 5000 */
  timeoutMs: number;
  /** @default 65536 */
  maxBytes: number;
  /** Allow loopback addresses (a registry bound to loopback serves agents on the same host). */
  allowLoopback: boolean;
}

/** Whether an address may be fetched: never link-local (cloud metadata), unspecified, multicast or broadcast; loopback only when allowed. */
export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  let ip = address.toLowerCase();
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    if (a === 0 || a >= 224) return false;
    if (a === 169 && b === 254) return false;
    if (a === 127) return allowLoopback;
    return true;
  }
  if (isIP(ip) === 6) {
    if (ip === '::') return false;
    if (ip === '::1') return allowLoopback;
    if (/^fe[89ab]/.test(ip) || ip.startsWith('ff')) return false;
    return true;
  }
  return false;
}

/**
 * Fetches a card URL with SSRF care: http(s) only, no credentials in the
 * URL, every resolved address checked (the connection goes to the checked
 * one), no redirects, one deadline for the whole fetch, a size cap. Resolves
 * with the parsed JSON; rejects with INVALID_INPUT (a URL refused) or
 * UNAVAILABLE (it did not answer with JSON), naming the URL.
 */
export async function fetchCard(cardUrl: string, limits: CardFetchLimits): Promise<unknown> {
  let url: URL;
  try {
    url = new URL(cardUrl);
  } catch {
    throw new SovError('INVALID_INPUT', `cardUrl is not a URL: ${JSON.stringify(cardUrl.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SovError('INVALID_INPUT', `cardUrl must be http or https, not ${url.protocol}`);
  if (url.username || url.password) throw new SovError('INVALID_INPUT', 'cardUrl must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !addressAllowed(host, limits.allowLoopback)) {
    throw new SovError('INVALID_INPUT', `cardUrl points at an address this registry does not fetch from: ${host}`);
  }
  const lookup = (hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, []);
      const allowed = addresses.filter((a) => addressAllowed(a.address, limits.allowLoopback));
      if (allowed.length === 0) {
        return callback(Object.assign(new Error(`${hostname} resolves only to addresses this registry does not fetch from`), { code: 'EADDRNOTALLOWED' }), []);
      }
      if ((options as { all?: boolean }).all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const fail = (message: string) => reject(new SovError('UNAVAILABLE', `Fetching the card at ${url.href} failed: ${message}`));
    const req = send(url, { method: 'GET', headers: { accept: 'application/json', 'a2a-version': '1.0' }, lookup, timeout: limits.timeoutMs }, (res: IncomingMessage) => {
      if ((res.statusCode ?? 0) >= 300 && (res.statusCode ?? 0) < 400) {
        res.destroy();
        return fail(`it redirects (${res.statusCode}); register the card's own URL`);
      }
      if (res.statusCode !== 200) {
        res.destroy();
        return fail(`it answered ${res.statusCode}`);
      }
      const announced = Number(res.headers['content-length']);
      if (announced > limits.maxBytes) {
        res.destroy();
        return fail(`it is ${announced} bytes; the limit is ${limits.maxBytes}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          res.destroy();
          fail(`it is larger than ${limits.maxBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (e) => fail(e.message));
      res.on('end', () => {
        if (size > limits.maxBytes) return;
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          fail('it is not JSON');
        }
      });
    });
    const deadline = setTimeout(() => {
      req.destroy();
      fail(`no answer within ${limits.timeoutMs} ms`);
    }, limits.timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => {
      req.destroy();
      fail(`no answer within ${limits.timeoutMs} ms`);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      fail(e.code === 'EADDRNOTALLOWED' ? e.message : `${e.code ?? 'error'} ${e.message}`);
    });
    req.end();
  });
}
