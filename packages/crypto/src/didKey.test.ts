import { generateKeyPairSync, sign } from 'node:crypto';
import { didKeyFromPublicKey, isDidKey, publicKeyFromDidKey, verifyDidSignature } from './didKey';
import { base58Decode, base58Encode } from './internal/base58';
import { rawPublicKey } from './internal/rawKeys';

describe('base58btc', () => {
  it('encodes and decodes known values', () => {
    expect(base58Encode(Buffer.from('hello world'))).toBe('StV1DL6CwTryKyV');
    expect(base58Encode(Uint8Array.of(0, 0, 1))).toBe('112');
    expect(Buffer.from(base58Decode('StV1DL6CwTryKyV')!).toString()).toBe('hello world');
    expect(base58Decode('0OIl')).toBeUndefined();
  });
});

describe('did:key', () => {
  it('round-trips an Ed25519 public key and starts with z6Mk', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const did = didKeyFromPublicKey(publicKey);
    expect(did).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
    expect(isDidKey(did)).toBe(true);
    expect(rawPublicKey(publicKeyFromDidKey(did))).toEqual(rawPublicKey(publicKey));
    expect(publicKeyFromDidKey(did)).toBe(publicKeyFromDidKey(did)); // parsed once
  });

  it('matches the did:key spec example', () => {
    // did:key spec test vector: the raw key behind a published Ed25519 did:key.
    const did = 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp';
    expect(isDidKey(did)).toBe(true);
    expect(didKeyFromPublicKey(rawPublicKey(publicKeyFromDidKey(did)))).toBe(did);
  });

  it('refuses what is not an Ed25519 did:key', () => {
    for (const bad of ['', 'did:key:', 'did:web:example.com', 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme', 'did:key:z6Mk0']) {
      expect(isDidKey(bad)).toBe(false);
      expect(() => publicKeyFromDidKey(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });

  it('verifies signatures from the id alone', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const did = didKeyFromPublicKey(publicKey);
    const data = Buffer.from('receipt');
    const sig = sign(null, data, privateKey);
    expect(verifyDidSignature(did, data, sig)).toBe(true);
    expect(verifyDidSignature(did, Buffer.from('receipT'), sig)).toBe(false);
    expect(verifyDidSignature('did:web:x', data, sig)).toBe(false);
    expect(verifyDidSignature(did, data, sig.subarray(1))).toBe(false);
  });
});
