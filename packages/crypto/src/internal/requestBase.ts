import type { SignableRequest } from '@sov/core';
import { contentDigest } from './contentDigest';

/** A request URL's parts as the signature base names them. */
export interface UrlParts {
  authority: string;
  path: string;
  query: string;
}

/** What a signer sends, before the signature itself: the digest, the covered components and the base to sign. */
export interface RequestBase {
  digest: string;
  /** The serialised `Signature-Input` member (components and parameters), without the label. */
  params: string;
  /** The RFC 9421 signature base. */
  base: string;
}

const WITH_AUTHORITY = '("@method" "@authority" "@path" "@query" "content-digest")';
const WITHOUT_AUTHORITY = '("@method" "@path" "@query" "content-digest")';

/**
 * Builds the RFC 9421 signature base both signers (Ed25519 per request,
 * HMAC-SHA256 per session) sign: `@method`, `@authority` (when covered),
 * `@path`, `@query`, `content-digest` and every `x-sov-*` header set on the
 * request, sorted by name, then `@signature-params` with `created`, `keyid`,
 * `nonce` and `alg`.
 */
export function requestBase(
  request: SignableRequest,
  url: UrlParts,
  coverAuthority: boolean,
  created: number,
  keyId: string,
  nonce: string,
  alg: string,
): RequestBase {
  const digest = contentDigest(request.body);
  let sovHeaders = '';
  let components = coverAuthority ? WITH_AUTHORITY : WITHOUT_AUTHORITY;
  let sov: Map<string, string> | undefined;
  for (const name of Object.keys(request.headers)) {
    // 120 is 'x': most names (content-type, accept) are passed over before any string is made.
    if (name.length > 6 && (name.charCodeAt(0) | 0x20) === 120 && name.slice(0, 6).toLowerCase() === 'x-sov-') {
      const lower = name.toLowerCase();
      const value = String(request.headers[name]).trim();
      if (/[\r\n]/.test(value)) throw new TypeError(`Header ${name} holds a line break`);
      const previous = (sov ??= new Map<string, string>()).get(lower);
      // Two spellings of one name reach the receiver as one field, joined as HTTP joins them.
      sov.set(lower, previous === undefined ? value : `${previous}, ${value}`);
    }
  }
  if (sov) {
    const names = [...sov.keys()].sort();
    for (const name of names) sovHeaders += `"${name}": ${sov.get(name)!}\n`;
    components = `${components.slice(0, -1)} ${names.map((n) => `"${n}"`).join(' ')})`;
  }
  const params = `${components};created=${created};keyid="${keyId}";nonce="${nonce}";alg="${alg}"`;
  let base = `"@method": ${request.method.toUpperCase()}\n`;
  if (coverAuthority) base += `"@authority": ${url.authority}\n`;
  base += `"@path": ${url.path}\n"@query": ${url.query}\n"content-digest": ${digest}\n${sovHeaders}"@signature-params": ${params}`;
  return { digest, params, base };
}

/** Parses request URLs into signature-base parts, keeping the few an agent calls again and again. */
export class UrlPartsCache {
  readonly #urls = new Map<string, UrlParts>();

  parts(href: string): UrlParts {
    let parts = this.#urls.get(href);
    if (!parts) {
      const url = new URL(href);
      parts = { authority: url.host.toLowerCase(), path: url.pathname || '/', query: url.search || '?' };
      if (this.#urls.size >= 256) this.#urls.clear();
      this.#urls.set(href, parts);
    }
    return parts;
  }
}
