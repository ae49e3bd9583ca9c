import { sign, type KeyObject } from 'node:crypto';
import { systemClock, type Clock, type SignableRequest, type Signer } from '@sov/core';
import { didKeyFromPublicKey } from './didKey';
import { contentDigest } from './internal/contentDigest';
import { randomToken } from './internal/randomToken';
import { assertKeyType } from './internal/rawKeys';
import { SIGNATURE_LABEL } from './internal/signatureBase';

/** Options of RequestSigner. */
export interface RequestSignerOptions {
  /** The Ed25519 private key, parsed once. */
  privateKey: KeyObject;
  /** The key id to name. @default the did:key of the key */
  keyId?: string;
  /** @default the system clock */
  clock?: Clock;
  /**
   * Cover `@authority` (the host the request is sent to), so that a request
   * signed for one agent is refused by any other. Turn off only behind a proxy
   * that rewrites the Host header. @default true
   */
  coverAuthority?: boolean;
}

/**
 * Signs outgoing requests with HTTP Message Signatures (RFC 9421) and
 * Content-Digest (RFC 9530), Ed25519. It covers `@method`, `@authority`,
 * `@path`, `@query`, `content-digest` and every `x-sov-*` header set on the
 * request (`x-sov-receiver`, `x-sov-receipt`), with the parameters `created`,
 * `keyid`, `nonce` and `alg="ed25519"`, under the label `sig1`. Implements
 * core's `Signer` port; an `Identity` carries one as `identity.signer`.
 *
 * @example
 * const signer = new RequestSigner({ privateKey });
 * const headers = signer.sign({ method: 'POST', url: 'http://127.0.0.1:8080/rpc', body, headers: {} });
 * // { 'Content-Digest': 'sha-256=:...:', 'Signature-Input': 'sig1=(...)...', Signature: 'sig1=:...:' }
 */
export class RequestSigner implements Signer {
  readonly keyId: string;
  readonly #privateKey: KeyObject;
  readonly #clock: Clock;
  readonly #coverAuthority: boolean;
  readonly #components: string;
  // Agents call the same few URLs again and again: parse each once.
  readonly #urls = new Map<string, { authority: string; path: string; query: string }>();

  constructor(options: RequestSignerOptions) {
    assertKeyType(options.privateKey, 'ed25519', 'private', 'RequestSigner privateKey');
    this.#privateKey = options.privateKey;
    this.keyId = options.keyId ?? didKeyFromPublicKey(options.privateKey);
    if (/["\\]/.test(this.keyId) || /[^\x20-\x7e]/.test(this.keyId)) throw new TypeError(`keyId is not a printable string without quotes: ${this.keyId}`);
    this.#clock = options.clock ?? systemClock;
    this.#coverAuthority = options.coverAuthority ?? true;
    this.#components = this.#coverAuthority
      ? '("@method" "@authority" "@path" "@query" "content-digest")'
      : '("@method" "@path" "@query" "content-digest")';
  }

  /**
   * Returns the `Content-Digest`, `Signature-Input` and `Signature` headers
   * for the request. Every `x-sov-*` header already set (the receiver, a
   * receipt request) is covered too, sorted by name after the fixed
   * components: whatever changes what the receiver does or signs is signed.
   */
  sign(request: SignableRequest): Record<string, string> {
    const url = this.#parseUrl(request.url);
    const method = request.method.toUpperCase();
    const digest = contentDigest(request.body);
    const created = Math.floor(this.#clock.now() / 1000);
    let sovHeaders = '';
    let components = this.#components;
    let sov: Map<string, string> | undefined;
    for (const name of Object.keys(request.headers)) {
      if (name.length > 6 && name.slice(0, 6).toLowerCase() === 'x-sov-') {
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
    const params = `${components};created=${created};keyid="${this.keyId}";nonce="${randomToken()}";alg="ed25519"`;
    let base = `"@method": ${method}\n`;
    if (this.#coverAuthority) base += `"@authority": ${url.authority}\n`;
    base +=
      `"@path": ${url.path}\n"@query": ${url.query}\n` +
      `"content-digest": ${digest}\n${sovHeaders}"@signature-params": ${params}`;
    const signature = sign(null, Buffer.from(base), this.#privateKey).toString('base64');
    return {
      'Content-Digest': digest,
      'Signature-Input': `${SIGNATURE_LABEL}=${params}`,
      Signature: `${SIGNATURE_LABEL}=:${signature}:`,
    };
  }

  #parseUrl(href: string): { authority: string; path: string; query: string } {
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
