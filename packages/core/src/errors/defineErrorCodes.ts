import { registerErrorCodes } from './errorCodes';
import { SovError } from './sovError';

const CODE_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Declares a package's own error codes with the HTTP status each is sent with,
 * and registers them with core, so that `httpStatusOf`, `isSovErrorCode`,
 * `isSovError` and `RemoteError` know them in every process that loads the
 * package. Call it once, at the top level of the package's errors file, and
 * add the codes to {@link SovErrorCodeMap} so `SovError` accepts them where
 * the package is imported.
 *
 * Codes are unique across packages: a code another package already declared
 * throws a CONFLICT SovError when the second package loads. The same owner
 * declaring the same codes again (its ESM and CJS builds both loaded) is fine.
 *
 * @param owner the package name, `'@sov/state'`
 * @param codes each code (`UPPER_SNAKE_CASE`) with its HTTP status (400 to 599); pass it `as const`
 * @returns `codes`, frozen
 * @example
 * export const STATE_ERROR_CODES = defineErrorCodes('@sov/state', {
 *   STATE_CORRUPT: 500,
 *   STATE_LOCKED: 423,
 * } as const);
 * type StateErrorCodeTable = typeof STATE_ERROR_CODES;
 * declare module '@sov/core' {
 *   interface SovErrorCodeMap extends StateErrorCodeTable {}
 * }
 */
export function defineErrorCodes<const T extends Readonly<Record<string, number>>>(owner: string, codes: T): Readonly<T> {
  if (typeof owner !== 'string' || owner.length === 0) throw new SovError('INVALID_INPUT', 'defineErrorCodes needs the name of the package that owns the codes');
  for (const [code, status] of Object.entries(codes)) {
    if (!CODE_SHAPE.test(code)) throw new SovError('INVALID_INPUT', `Error code ${JSON.stringify(code)} of ${owner} is not UPPER_SNAKE_CASE (A-Z, 0-9, _; at most 64 characters)`);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new SovError('INVALID_INPUT', `Error code ${code} of ${owner} has HTTP status ${String(status)}; it must be an integer from 400 to 599`);
    }
  }
  const clash = registerErrorCodes(owner, codes);
  if (clash) {
    throw new SovError('CONFLICT', `Error code ${clash.code} is declared by ${clash.owner}; ${clash.claimedBy} cannot declare it too (codes are unique across packages)`, {
      details: clash,
    });
  }
  return Object.freeze({ ...codes });
}
