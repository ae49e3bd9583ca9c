import { sign, type KeyObject } from 'node:crypto';
import { systemClock, type Clock, type SignableRequest, type Signer } from '@sov/core';
import { didKeyFromPublicKey } from './didKey';
import { randomToken } from './internal/randomToken';
import { assertKeyType } from './internal/rawKeys';
import { requestBase, UrlPartsCache } from './internal/requestBase';
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
  readonly #urls = new UrlPartsCache();

  constructor(options: RequestSignerOptions) {
    assertKeyType(options.privateKey, 'ed25519', 'private', 'RequestSigner privateKey');
    this.#privateKey = options.privateKey;
    this.keyId = options.keyId ?? didKeyFromPublicKey(options.privateKey);
    if (/["\\]/.test(this.keyId) || /[^\x20-\x7e]/.test(this.keyId)) throw new TypeError(`keyId is not a printable string without quotes: ${this.keyId}`);
    this.#clock = options.clock ?? systemClock;
    this.#coverAuthority = options.coverAuthority ?? true;
  }

  /**
   * Returns the `Content-Digest`, `Signature-Input` and `Signature` headers
   * for the request. Every `x-sov-*` header already set (the receiver, a
   * receipt request) is covered too, sorted by name after the fixed
   * components: whatever changes what the receiver does or signs is signed.
   */
  sign(request: SignableRequest): Record<string, string> {
    const url = this.#urls.parts(request.url);
    const created = Math.floor(this.#clock.now() / 1000);
    const { digest, params, base } = requestBase(request, url, this.#coverAuthority, created, this.keyId, randomToken(), 'ed25519');
    const signature = sign(null, Buffer.from(base), this.#privateKey).toString('base64');
    return {
      'Content-Digest': digest,
      'Signature-Input': `${SIGNATURE_LABEL}=${params}`,
      Signature: `${SIGNATURE_LABEL}=:${signature}:`,
    };
  }
}
