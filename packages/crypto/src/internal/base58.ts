/** Base58btc (the Bitcoin alphabet), as multibase `z` uses it for did:key. */

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

/** Encodes bytes as base58btc. */
export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // log(256) / log(58) ≈ 1.366: enough digits for the whole input.
  const digits = new Uint8Array(Math.ceil(((bytes.length - zeros) * 138) / 100) + 1);
  let length = 0;
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    let j = 0;
    for (let k = digits.length - 1; (carry !== 0 || j < length) && k >= 0; k--, j++) {
      carry += 256 * digits[k]!;
      digits[k] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    length = j;
  }
  let start = digits.length - length;
  while (start < digits.length && digits[start] === 0) start++;
  let out = '1'.repeat(zeros);
  for (let i = start; i < digits.length; i++) out += ALPHABET[digits[i]!];
  return out;
}

/** Decodes base58btc; undefined when a character is outside the alphabet. */
export function base58Decode(text: string): Uint8Array | undefined {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  const bytes = new Uint8Array(Math.ceil(((text.length - zeros) * 733) / 1000) + 1);
  let length = 0;
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let carry = code < 128 ? INDEX[code]! : -1;
    if (carry < 0) return undefined;
    let j = 0;
    for (let k = bytes.length - 1; (carry !== 0 || j < length) && k >= 0; k--, j++) {
      carry += 58 * bytes[k]!;
      bytes[k] = carry % 256;
      carry = Math.floor(carry / 256);
    }
    length = j;
  }
  let start = bytes.length - length;
  while (start < bytes.length && bytes[start] === 0) start++;
  const out = new Uint8Array(zeros + bytes.length - start);
  out.set(bytes.subarray(start), zeros);
  return out;
}
