import { createHash } from 'node:crypto';

const MAX_NAME = 120;

/**
 * Turns a namespace (an agent id such as `did:key:z6Mk...`) into one safe
 * directory name: letters, digits, `-` and `_` are kept, every other byte of
 * its UTF-8 form becomes `.XX` (hex), so two namespaces never share a name and
 * the result is the same on every platform. A name longer than 120 characters
 * is cut and suffixed with a hash of the whole.
 */
export function namespaceDir(namespace: string): string {
  let out = '';
  for (const byte of Buffer.from(namespace, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `.${byte.toString(16).padStart(2, '0')}`;
  }
  if (out.length <= MAX_NAME) return out;
  const hash = createHash('sha256').update(namespace).digest('hex').slice(0, 16);
  return `${out.slice(0, MAX_NAME - 17)}-${hash}`;
}
