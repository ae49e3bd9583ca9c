/** Shared pieces of the RFC 9421 signature base that signer and verifier must agree on. */

/** The signature label our signer uses. */
export const SIGNATURE_LABEL = 'sig1';

/** The components a verifier insists on: method, path, query and the body digest. */
export const REQUIRED_COMPONENTS: readonly string[] = ['@method', '@path', '@query', 'content-digest'];

/** Splits a request target (`/path?query`) into the `@path` and `@query` component values. */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  return { path: path || '/', query: q < 0 ? '?' : target.slice(q) };
}
