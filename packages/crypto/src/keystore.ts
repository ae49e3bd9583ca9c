import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, randomBytes, scrypt as scryptCallback, timingSafeEqual, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SovError } from '@sov/core';
import { didKeyFromPublicKey } from './didKey';
import { fromBase64Url, toBase64Url } from './internal/base64url';
import type { IdentityKeys } from './internal/identityKeys';
import { randomToken } from './internal/randomToken';

/** How an identity's keystore file is protected. */
export interface KeystoreOptions {
  /**
   * Encrypts the private keys (scrypt + AES-256-GCM). Loading then needs the
   * same passphrase. @default none: the file is protected by its mode (0600) only
   */
  passphrase?: string;
  /**
   * scrypt cost N, a power of two between 2^10 and 2^20, used when writing
   * (reading takes it from the file). Lower it only in tests. @default 32768
   */
  scryptCost?: number;
}

const VERSION = 1;
const KIND = 'sov-agent-identity';
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const MIN_COST = 2 ** 10;
const MAX_COST = 2 ** 20;

interface KeyMaterial {
  ed25519: string;
  x25519: string;
}

interface Encryption {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: 'aes-256-gcm';
  iv: string;
  /** HMAC under a second derived key: tells a wrong passphrase from a damaged file. */
  check: string;
}

interface KeystoreFile {
  version: number;
  kind: string;
  id: string;
  keys?: KeyMaterial;
  encryption?: Encryption;
  ciphertext?: string;
}

function scrypt(passphrase: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase.normalize('NFKC'), salt, 64, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** The header fields an encrypted keystore authenticates along with the keys. */
function associatedData(file: Pick<KeystoreFile, 'version' | 'kind' | 'id'>, e: Omit<Encryption, 'check'>): Buffer {
  return Buffer.from(JSON.stringify([file.version, file.kind, file.id, e.kdf, e.N, e.r, e.p, e.salt, e.cipher, e.iv]));
}

function checkValue(macKey: Buffer): Buffer {
  return createHmac('sha256', macKey).update('sov-keystore-passphrase-check').digest().subarray(0, 16);
}

function exportKey(key: KeyObject): string {
  return key.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

/** Serialises an identity's keys, encrypting them when a passphrase is given. */
export async function encodeKeystore(keys: IdentityKeys, options: KeystoreOptions = {}): Promise<string> {
  const id = didKeyFromPublicKey(keys.signingKey);
  const material: KeyMaterial = { ed25519: exportKey(keys.signingKey), x25519: exportKey(keys.agreementKey) };
  const file: KeystoreFile = { version: VERSION, kind: KIND, id };
  if (options.passphrase === undefined) {
    file.keys = material;
  } else {
    if (options.passphrase.length === 0) throw new SovError('KEYSTORE_PASSPHRASE', 'The keystore passphrase is empty');
    const N = options.scryptCost ?? 2 ** 15;
    if (!isPowerOfTwo(N) || N < MIN_COST || N > MAX_COST) {
      throw new RangeError(`scryptCost must be a power of two between ${MIN_COST} and ${MAX_COST}, got ${N}`);
    }
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const derived = await scrypt(options.passphrase, salt, N, SCRYPT_R, SCRYPT_P);
    const params = { kdf: 'scrypt', N, r: SCRYPT_R, p: SCRYPT_P, salt: toBase64Url(salt), cipher: 'aes-256-gcm', iv: toBase64Url(iv) } as const;
    const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, 32), iv);
    cipher.setAAD(associatedData(file, params));
    const body = Buffer.concat([cipher.update(JSON.stringify(material)), cipher.final(), cipher.getAuthTag()]);
    file.encryption = { ...params, check: toBase64Url(checkValue(derived.subarray(32))) };
    file.ciphertext = toBase64Url(body);
    derived.fill(0);
  }
  return `${JSON.stringify(file, null, 2)}\n`;
}

function damaged(path: string, what: string, cause?: unknown): SovError {
  return new SovError('KEYSTORE_INVALID', `Keystore ${path} is damaged: ${what}`, cause === undefined ? {} : { cause });
}

function importKey(path: string, der: unknown, type: 'ed25519' | 'x25519'): KeyObject {
  if (typeof der !== 'string') throw damaged(path, `the ${type} key is missing`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw damaged(path, `the ${type} key does not parse`, cause);
  }
  if (key.asymmetricKeyType !== type) throw damaged(path, `the ${type} key is a ${key.asymmetricKeyType ?? 'unknown'} key`);
  return key;
}

/**
 * Reads and checks a keystore. Errors: ENOENT (as thrown by fs) when there is
 * no file; KEYSTORE_INVALID for a damaged file; KEYSTORE_PASSPHRASE for a
 * missing, unexpected or wrong passphrase.
 */
export async function readKeystore(path: string, options: KeystoreOptions = {}): Promise<IdentityKeys> {
  const text = await readFile(path, 'utf8');
  let file: KeystoreFile;
  try {
    file = JSON.parse(text) as KeystoreFile;
  } catch (cause) {
    throw damaged(path, 'it is not valid JSON', cause);
  }
  if (typeof file !== 'object' || file === null || file.kind !== KIND) throw damaged(path, `it is not a ${KIND} keystore`);
  if (file.version !== VERSION) throw damaged(path, `version ${JSON.stringify(file.version)} is not supported (expected ${VERSION})`);
  if (typeof file.id !== 'string') throw damaged(path, 'the id is missing');

  let material: Partial<KeyMaterial>;
  if (file.encryption !== undefined) {
    if (options.passphrase === undefined) {
      throw new SovError('KEYSTORE_PASSPHRASE', `Keystore ${path} is encrypted: a passphrase is required`);
    }
    material = await decrypt(path, file, options.passphrase);
  } else {
    if (options.passphrase !== undefined) {
      throw new SovError('KEYSTORE_PASSPHRASE', `Keystore ${path} is not encrypted, but a passphrase was given; refusing to guess which is wrong`);
    }
    if (typeof file.keys !== 'object' || file.keys === null) throw damaged(path, 'the keys are missing');
    material = file.keys;
  }
  const signingKey = importKey(path, material.ed25519, 'ed25519');
  const agreementKey = importKey(path, material.x25519, 'x25519');
  const id = didKeyFromPublicKey(signingKey);
  if (id !== file.id) throw damaged(path, `its key belongs to ${id}, not to the recorded id ${file.id}`);
  return { signingKey, agreementKey };
}

async function decrypt(path: string, file: KeystoreFile, passphrase: string): Promise<Partial<KeyMaterial>> {
  const e = file.encryption!;
  const salt = fromBase64Url(e.salt, 16);
  const iv = fromBase64Url(e.iv, 12);
  const check = fromBase64Url(e.check, 16);
  const body = fromBase64Url(file.ciphertext);
  if (e.kdf !== 'scrypt' || e.cipher !== 'aes-256-gcm' || !salt || !iv || !check || !body || body.length < 17) {
    throw damaged(path, 'the encryption header is malformed');
  }
  if (!isPowerOfTwo(e.N) || e.N < MIN_COST || e.N > MAX_COST || e.r !== SCRYPT_R || e.p !== SCRYPT_P) {
    throw damaged(path, `the scrypt parameters N=${e.N} r=${e.r} p=${e.p} are out of range`);
  }
  const derived = await scrypt(passphrase, salt, e.N, e.r, e.p);
  try {
    if (!timingSafeEqual(checkValue(derived.subarray(32)), check)) {
      throw new SovError('KEYSTORE_PASSPHRASE', `Wrong passphrase for keystore ${path}`);
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', derived.subarray(0, 32), iv);
      decipher.setAAD(associatedData(file, e));
      decipher.setAuthTag(body.subarray(body.length - 16));
      plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    } catch (cause) {
      throw damaged(path, 'the passphrase is right but the encrypted keys or their header were altered', cause);
    }
    try {
      return JSON.parse(plain.toString('utf8')) as Partial<KeyMaterial>;
    } finally {
      plain.fill(0);
    }
  } finally {
    derived.fill(0);
  }
}

/**
 * Writes a keystore atomically: a temporary file (mode 0600) in the same
 * directory, fsync, then rename (`replace`) or link (`create`: never
 * overwrites; returns false when the file already exists), then fsync of the
 * directory. The directory is created with mode 0700 when missing.
 */
export async function writeKeystore(path: string, text: string, mode: 'create' | 'replace'): Promise<boolean> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${randomToken(6)}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.chmod(0o600);
    await handle.sync();
  } finally {
    await handle.close();
  }
  let written = true;
  try {
    if (mode === 'replace') {
      await rename(tmp, path);
    } else {
      written = await linkExclusive(tmp, path);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await syncDirectory(dir);
  return written;
}

// link() fails with EEXIST instead of replacing: the create-if-absent that rename cannot do.
async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw e;
  }
  // A filesystem without hard links: check, then rename (a narrow race, documented).
  const exists = await access(to, constants.F_OK).then(
    () => true,
    () => false,
  );
  if (exists) return false;
  await rename(from, to);
  return true;
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  }
}
