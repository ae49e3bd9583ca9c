import { randomFillSync } from 'node:crypto';

// One syscall for many tokens: small randomBytes() calls cost more than the bytes.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** `bytes` fresh random bytes as base64url (default 16 bytes: 22 characters). */
export function randomToken(bytes = 16): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + bytes);
  // Never hand the same bytes out twice.
  pool.fill(0, offset, offset + bytes);
  offset += bytes;
  return token;
}
