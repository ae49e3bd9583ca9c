/**
 * Strict base64 / base64url. Node's decoder skips characters it does not know
 * and ignores unused trailing bits, so two different strings can decode to the
 * same bytes; these helpers accept only the one canonical spelling, so that a
 * changed character is always a changed value.
 */

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes canonical unpadded base64url; undefined for anything else (or the wrong length when one is given). */
export function fromBase64Url(text: unknown, length?: number): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const bytes = Buffer.from(text, 'base64url');
  if (length !== undefined && bytes.length !== length) return undefined;
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Decodes canonical padded base64 (RFC 8941 byte sequences); undefined for anything else. */
export function fromBase64(text: string, length?: number): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (length !== undefined && bytes.length !== length) return undefined;
  return bytes.toString('base64') === text ? bytes : undefined;
}
