import { createHash } from 'node:crypto';
import { contentDigest, contentDigestMatches } from './contentDigest';

const body = Buffer.from('{"service":"echo","params":{"text":"hi"}}');
const b64 = (algorithm: string, data: Uint8Array) => createHash(algorithm).update(data).digest('base64');

describe('Content-Digest (RFC 9530)', () => {
  it('is sha-256 of the body, and matches only that body', () => {
    expect(contentDigest(body)).toBe(`sha-256=:${b64('sha256', body)}:`);
    expect(contentDigestMatches(contentDigest(body), body)).toBe(true);
    expect(contentDigestMatches(contentDigest(body), Buffer.from('{}'))).toBe(false);
    expect(contentDigestMatches(contentDigest(Buffer.alloc(0)), Buffer.alloc(0))).toBe(true);
  });

  it('takes a dictionary with several members when every sha-256 / sha-512 member matches, other algorithms aside', () => {
    const both = `sha-512=:${b64('sha512', body)}:, sha-256=:${b64('sha256', body)}:`;
    expect(contentDigestMatches(both, body)).toBe(true);
    expect(contentDigestMatches(`md5=:AAAA:, sha-256=:${b64('sha256', body)}:`, body)).toBe(true);
    expect(contentDigestMatches(`sha-512=:${b64('sha512', Buffer.from('x'))}:, sha-256=:${b64('sha256', body)}:`, body)).toBe(false);
  });

  it('refuses no checkable member, a wrong length, a non-canonical spelling and malformed text', () => {
    const good = b64('sha256', body);
    const bent = good.slice(0, 42) + String.fromCharCode(good.charCodeAt(42) ^ 1) + '=';
    for (const header of [
      'md5=:AAAA:',
      '',
      `sha-256=:${good.slice(0, -4)}:`,
      `sha-256=:${good}`,
      `sha-256=${good}:`,
      `sha-256=:${good}:;p=1`,
      `SHA-256=:${good}:`,
      `sha-256=:${bent}:`,
    ]) {
      expect({ header, matches: contentDigestMatches(header, body) }).toEqual({ header, matches: false });
    }
  });
});
