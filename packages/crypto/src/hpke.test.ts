import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { hasErrorCode } from '@sov/core';
import { HPKE_AEAD, Hpke } from './hpke';
import { rawPublicKey, x25519PrivateKeyFromRaw } from './internal/rawKeys';

const hex = (s: string) => Buffer.from(s, 'hex');

// RFC 9180 Appendix A.1.1 (AES-128-GCM) and A.2.1 (ChaCha20Poly1305), base mode.
const vectors = [
  {
    name: 'A.1.1 DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM',
    aead: HPKE_AEAD.AES_128_GCM,
    ikmE: '7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234',
    skEm: '52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736',
    enc: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
    skRm: '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8',
    pkRm: '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d',
    ciphertexts: [
      'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a',
      'af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84',
      '498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb72516491588d96a19ad4a683518973dcc180',
    ],
  },
  {
    name: 'A.2.1 DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305',
    aead: HPKE_AEAD.CHACHA20_POLY1305,
    ikmE: '909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b',
    skEm: 'f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600',
    enc: '1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a',
    skRm: '8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb',
    pkRm: '4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a',
    ciphertexts: ['1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28'],
  },
];
const info = hex('4f6465206f6e2061204772656369616e2055726e'); // "Ode on a Grecian Urn"
const plaintext = hex('4265617574792069732074727574682c20747275746820626561757479'); // "Beauty is truth, truth beauty"
const aad = (seq: number) => Buffer.from(`Count-${seq}`);

describe('Hpke', () => {
  describe.each(vectors)('RFC 9180 $name', (v) => {
    const hpke = new Hpke({ aead: v.aead });
    const skR = x25519PrivateKeyFromRaw(hex(v.skRm));
    const pkR = createPublicKey(skR);

    it('derives the ephemeral key pair from ikmE', () => {
      const { publicKey } = hpke.deriveKeyPair(hex(v.ikmE));
      expect(rawPublicKey(publicKey).toString('hex')).toBe(v.enc);
      expect(rawPublicKey(pkR).toString('hex')).toBe(v.pkRm);
    });

    it('seals to the published enc and ciphertexts', () => {
      const { enc, context } = hpke.setupBaseSender(pkR, info, { ephemeralPrivateKey: x25519PrivateKeyFromRaw(hex(v.skEm)) });
      expect(enc.toString('hex')).toBe(v.enc);
      v.ciphertexts.forEach((ct, seq) => expect(context.seal(plaintext, aad(seq)).toString('hex')).toBe(ct));
    });

    it('opens the published ciphertexts, in order and by sequence number', () => {
      const context = hpke.setupBaseReceiver(hex(v.enc), skR, info);
      v.ciphertexts.forEach((ct, seq) => expect(context.open(hex(ct), aad(seq))).toEqual(plaintext));
      const again = hpke.setupBaseReceiver(hex(v.enc), skR, info);
      const last = v.ciphertexts.length - 1;
      expect(again.open(hex(v.ciphertexts[last]!), aad(last), last)).toEqual(plaintext);
    });
  });

  it('round-trips single-shot with every AEAD', () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    for (const aeadId of Object.values(HPKE_AEAD)) {
      const hpke = new Hpke({ aead: aeadId });
      const { enc, ciphertext } = hpke.seal(publicKey, Buffer.from('hello'), { info, aad: Buffer.from('ad') });
      expect(hpke.open(enc, privateKey, ciphertext, { info, aad: Buffer.from('ad') }).toString()).toBe('hello');
    }
  });

  it('refuses a flipped bit, wrong aad, wrong info, wrong key and a bad enc', () => {
    const hpke = new Hpke();
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const { enc, ciphertext } = hpke.seal(publicKey, Buffer.from('secret'), { info, aad: Buffer.from('ad') });
    for (let i = 0; i < ciphertext.length * 8; i++) {
      const bad = Buffer.from(ciphertext);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(() => hpke.open(enc, privateKey, bad, { info, aad: Buffer.from('ad') })).toThrow(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
    }
    const attempts = [
      () => hpke.open(enc, privateKey, ciphertext, { info, aad: Buffer.from('ae') }),
      () => hpke.open(enc, privateKey, ciphertext, { info: Buffer.from('other'), aad: Buffer.from('ad') }),
      () => hpke.open(enc, generateKeyPairSync('x25519').privateKey, ciphertext, { info, aad: Buffer.from('ad') }),
      () => hpke.open(enc.subarray(1), privateKey, ciphertext, { info, aad: Buffer.from('ad') }),
      () => hpke.open(Buffer.alloc(32), privateKey, ciphertext, { info, aad: Buffer.from('ad') }),
      () => hpke.open(enc, privateKey, ciphertext.subarray(0, 10), { info, aad: Buffer.from('ad') }),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'DECRYPTION_FAILED')).toBe(true);
    }
  });
});
