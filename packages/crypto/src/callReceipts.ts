import type { CallReceipt, UnsignedReceipt } from '@sov/core';
import { receiptPayload } from '@sov/core/internal';
import { isDidKey, verifyDidSignature } from './didKey';
import { fromBase64Url, toBase64Url } from './internal/base64url';

/**
 * Signs a call receipt with a signing function (an Identity's `sign`),
 * returning the base64url Ed25519 signature over `receiptPayload(receipt)`.
 */
export function signReceipt(receipt: UnsignedReceipt, sign: (data: Uint8Array) => Uint8Array): string {
  return toBase64Url(sign(receiptPayload(receipt)));
}

/**
 * Whether a call receipt was signed by its callee: the callee's id is a
 * did:key, so its public key comes from the id itself. Never throws; a
 * malformed receipt is simply not valid.
 *
 * @example
 * if (!verifyReceipt(feedback.receipt)) throw new Error('forged receipt');
 */
export function verifyReceipt(receipt: CallReceipt): boolean {
  if (!isDidKey(receipt.callee)) return false;
  const signature = fromBase64Url(receipt.signature, 64);
  if (!signature) return false;
  try {
    return verifyDidSignature(receipt.callee, receiptPayload(receipt), signature);
  } catch {
    return false;
  }
}
