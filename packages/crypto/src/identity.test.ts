import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { receiptPayload } from '@sov/core/internal';
import { verifyReceipt } from './callReceipts';
import { verifyDidSignature } from './didKey';
import { Identity } from './identity';
import { verifyX25519Binding } from './x25519Binding';

const FAST = { scryptCost: 1024 }; // keeps tests fast; the default is 2^15

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('Identity', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sov-crypto-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('derives a did:key id and signs what verifyDidSignature accepts', () => {
    const identity = Identity.generate();
    expect(identity.id).toMatch(/^did:key:z6Mk/);
    const sig = identity.sign(Buffer.from('hello'));
    expect(verifyDidSignature(identity.id, Buffer.from('hello'), sig)).toBe(true);
    expect(identity.signer.keyId).toBe(identity.id);
  });

  it('signs call receipts that verify from the callee id', () => {
    const identity = Identity.generate();
    const receipt = { id: 'r1', caller: 'did:key:caller', callee: identity.id, service: 'echo', at: '2025-01-01T00:00:00.000Z' };
    const signature = Buffer.from(identity.signReceipt(receipt), 'base64url');
    expect(verifyDidSignature(identity.id, receiptPayload(receipt), signature)).toBe(true);
    expect(verifyDidSignature(identity.id, receiptPayload({ ...receipt, service: 'other' }), signature)).toBe(false);
    const signed = { ...receipt, signature: identity.signReceipt(receipt) };
    expect(verifyReceipt(signed)).toBe(true);
    expect(verifyReceipt({ ...signed, service: 'other' })).toBe(false);
    expect(verifyReceipt({ ...signed, callee: Identity.generate().id })).toBe(false);
    expect(verifyReceipt({ ...signed, callee: 'did:web:x' })).toBe(false);
    expect(verifyReceipt({ ...signed, signature: 'not base64url!' })).toBe(false);
  });

  it('publishes its X25519 key signed by the identity key', () => {
    const identity = Identity.generate();
    const { x25519 } = identity.registrationMetadata();
    expect(verifyX25519Binding(identity.id, x25519).equals(identity.x25519PublicKey)).toBe(true);
    const other = Identity.generate();
    expect(() => verifyX25519Binding(other.id, x25519)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    const swapped = { ...x25519, publicKey: other.registrationMetadata().x25519.publicKey };
    expect(() => verifyX25519Binding(identity.id, swapped)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    expect(() => verifyX25519Binding(identity.id, { publicKey: 'x' })).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
  });

  it('never serialises or prints its private keys', () => {
    const identity = Identity.generate();
    expect(JSON.stringify(identity)).toBe(JSON.stringify({ id: identity.id }));
    expect(inspect(identity)).toBe(`Identity { id: '${identity.id}' }`);
    expect(Object.keys(identity)).not.toContain('signingKey');
  });

  it('loadOrCreate creates once (mode 0600) and returns the same id after', async () => {
    const path = join(dir, 'keys', 'agent.json');
    const first = await Identity.loadOrCreate(path);
    const second = await Identity.loadOrCreate(path);
    expect(second.id).toBe(first.id);
    expect(second.registrationMetadata().x25519.publicKey).toBe(first.registrationMetadata().x25519.publicKey);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'keys'))).toEqual(['agent.json']); // no temp file left
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file).toMatchObject({ version: 1, kind: 'sov-agent-identity', id: first.id });
  });

  it('two concurrent loadOrCreate calls end with one identity', async () => {
    const path = join(dir, 'agent.json');
    const [a, b] = await Promise.all([Identity.loadOrCreate(path), Identity.loadOrCreate(path)]);
    expect(a.id).toBe(b.id);
  });

  it('encrypts with a passphrase and loads it back', async () => {
    const path = join(dir, 'agent.json');
    const created = await Identity.loadOrCreate(path, { passphrase: 'correct horse', ...FAST });
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('MC4CAQAwBQYDK2Vw'); // no plaintext PKCS#8
    expect(JSON.parse(text).encryption).toMatchObject({ kdf: 'scrypt', N: 1024, cipher: 'aes-256-gcm' });
    expect((await Identity.load(path, { passphrase: 'correct horse' })).id).toBe(created.id);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a wrong or missing passphrase with KEYSTORE_PASSPHRASE, and loadOrCreate leaves the file alone', async () => {
    const path = join(dir, 'agent.json');
    await Identity.loadOrCreate(path, { passphrase: 'correct horse', ...FAST });
    const before = readFileSync(path, 'utf8');
    expect(await codeOf(Identity.load(path, { passphrase: 'wrong horse' }))).toBe('KEYSTORE_PASSPHRASE');
    expect(await codeOf(Identity.loadOrCreate(path, { passphrase: 'wrong horse', ...FAST }))).toBe('KEYSTORE_PASSPHRASE');
    expect(await codeOf(Identity.load(path))).toBe('KEYSTORE_PASSPHRASE');
    expect(readFileSync(path, 'utf8')).toBe(before);
    const plain = join(dir, 'plain.json');
    await Identity.loadOrCreate(plain);
    expect(await codeOf(Identity.load(plain, { passphrase: 'unexpected' }))).toBe('KEYSTORE_PASSPHRASE');
  });

  it('refuses a damaged keystore with KEYSTORE_INVALID and never replaces it', async () => {
    const path = join(dir, 'agent.json');
    const original = await Identity.loadOrCreate(path);
    const good = readFileSync(path, 'utf8');
    const other = Identity.generate();
    const damages = [
      good.slice(0, good.length / 2), // truncated
      '',
      'null',
      good.replace(original.id, other.id), // edited id
      good.replace('"version": 1', '"version": 9'),
      good.replace(/"ed25519": "([^"]{10})/, '"ed25519": "AAAAAAAAAA'), // edited key
      JSON.stringify({ ...JSON.parse(good), keys: { ed25519: JSON.parse(good).keys.x25519, x25519: JSON.parse(good).keys.x25519 } }),
    ];
    for (const damaged of damages) {
      writeFileSync(path, damaged, { mode: 0o600 });
      expect(await codeOf(Identity.loadOrCreate(path))).toBe('KEYSTORE_INVALID');
      expect(readFileSync(path, 'utf8')).toBe(damaged);
    }
  });

  it('refuses an encrypted keystore whose ciphertext or header was edited', async () => {
    const path = join(dir, 'agent.json');
    await Identity.loadOrCreate(path, { passphrase: 'pw', ...FAST });
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const ct: string = file.ciphertext;
    const flipped = (ct[5] === 'A' ? 'B' : 'A');
    writeFileSync(path, JSON.stringify({ ...file, ciphertext: ct.slice(0, 5) + flipped + ct.slice(6) }));
    expect(await codeOf(Identity.load(path, { passphrase: 'pw' }))).toBe('KEYSTORE_INVALID');
    writeFileSync(path, JSON.stringify({ ...file, id: Identity.generate().id }));
    expect(await codeOf(Identity.load(path, { passphrase: 'pw' }))).toBe('KEYSTORE_INVALID');
    writeFileSync(path, JSON.stringify({ ...file, encryption: { ...file.encryption, N: 2 ** 30 } }));
    expect(await codeOf(Identity.load(path, { passphrase: 'pw' }))).toBe('KEYSTORE_INVALID');
  });

  it('save replaces atomically and keeps mode 0600', async () => {
    const path = join(dir, 'agent.json');
    await Identity.generate().save(path);
    const identity = Identity.generate();
    await identity.save(path, { passphrase: 'pw', ...FAST });
    expect((await Identity.load(path, { passphrase: 'pw' })).id).toBe(identity.id);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['agent.json']);
  });
});
