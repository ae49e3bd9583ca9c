import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import type { AgentIdentity, Clock, UnsignedReceipt } from '@sov/core';
import { signReceipt } from './callReceipts';
import { didKeyFromPublicKey } from './didKey';
import { identityKeysOf, registerIdentityKeys, type IdentityKeys } from './internal/identityKeys';
import { assertKeyType, rawPublicKey } from './internal/rawKeys';
import { encodeKeystore, readKeystore, writeKeystore, type KeystoreOptions } from './keystore';
import { RequestSigner } from './requestSigner';
import { RequestVerifier, type RequestVerifierOptions } from './requestVerifier';
import { SessionInitiator, type SessionInitiatorOptions } from './sessionInitiator';
import { SessionTable, type SessionTableOptions } from './sessionTable';
import { createX25519Binding, type X25519Binding } from './x25519Binding';

/** Options of an Identity. */
export interface IdentityOptions {
  /** The clock the signer stamps requests with. @default the system clock */
  clock?: Clock;
  /** Whether the signer covers `@authority` (see RequestSignerOptions). @default true */
  coverAuthority?: boolean;
  /** The sessions this identity's verifier opens for callers: lifetime, bounds, clock (see SessionTableOptions). @default SessionTable's defaults */
  sessions?: SessionTableOptions;
}

/** Options of Identity.load, loadOrCreate and save. */
export interface IdentityFileOptions extends IdentityOptions, KeystoreOptions {}

/** What an identity publishes in its registry record. */
export interface IdentityRegistrationMetadata extends Record<string, unknown> {
  x25519: X25519Binding;
}

/**
 * An agent's sovereign identity: an Ed25519 key pair whose public key is the
 * agent id (`did:key:z6Mk...`), and an X25519 key pair for sealed messages,
 * its public half signed by the identity key. Keys are parsed once into
 * KeyObjects; the private halves never leave the object (not in JSON, not in
 * logs). Implements core's `AgentIdentity`: pass it to an Agent and every
 * outgoing request is signed and every incoming one verified.
 *
 * @example
 * const identity = await Identity.loadOrCreate('./keys/agent.json', { passphrase: process.env.AGENT_PASSPHRASE });
 * const agent = new Agent({ name: 'analyst', registryUrl, identity });
 */
export class Identity implements AgentIdentity {
  /** The agent id: the did:key of the Ed25519 public key. */
  readonly id: string;
  /** Signs outgoing requests (RFC 9421) with the identity key. */
  readonly signer: RequestSigner;
  /** The Ed25519 public key. */
  readonly publicKey: KeyObject;
  /** The X25519 public key others seal messages to. */
  readonly x25519PublicKey: KeyObject;
  readonly #signingKey: KeyObject;
  readonly #clock: Clock | undefined;
  readonly #coverAuthority: boolean | undefined;
  readonly #sessionOptions: SessionTableOptions | undefined;
  #metadata: IdentityRegistrationMetadata | undefined;

  private constructor(signingKey: KeyObject, agreementKey: KeyObject, options: IdentityOptions) {
    assertKeyType(signingKey, 'ed25519', 'private', 'Identity ed25519 key');
    assertKeyType(agreementKey, 'x25519', 'private', 'Identity x25519 key');
    this.#signingKey = signingKey;
    this.#clock = options.clock;
    this.#coverAuthority = options.coverAuthority;
    this.#sessionOptions = options.sessions;
    this.publicKey = createPublicKey(signingKey);
    this.x25519PublicKey = createPublicKey(agreementKey);
    this.id = didKeyFromPublicKey(this.publicKey);
    this.signer = new RequestSigner({
      privateKey: signingKey,
      keyId: this.id,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.coverAuthority === undefined ? {} : { coverAuthority: options.coverAuthority }),
    });
    registerIdentityKeys(this, { signingKey, agreementKey });
  }

  /**
   * A new identity with fresh keys (kept in memory only; `save` writes it).
   *
   * @example
   * const identity = Identity.generate();
   */
  static generate(options: IdentityOptions = {}): Identity {
    return new Identity(generateKeyPairSync('ed25519').privateKey, generateKeyPairSync('x25519').privateKey, options);
  }

  /** An identity from existing private keys (Ed25519 and X25519 KeyObjects). */
  static fromPrivateKeys(keys: { ed25519: KeyObject; x25519: KeyObject }, options: IdentityOptions = {}): Identity {
    return new Identity(keys.ed25519, keys.x25519, options);
  }

  /**
   * Loads an identity from its keystore file. Throws KEYSTORE_INVALID for a
   * damaged file, KEYSTORE_PASSPHRASE for a wrong or missing passphrase, and
   * the fs error (ENOENT) when there is no file.
   */
  static async load(path: string, options: IdentityFileOptions = {}): Promise<Identity> {
    const keys = await readKeystore(path, options);
    return new Identity(keys.signingKey, keys.agreementKey, options);
  }

  /**
   * Loads the identity at `path`, or creates one there when the file does not
   * exist (written atomically, mode 0600, encrypted when a passphrase is
   * given). A file that exists but cannot be read is an error, never a reason
   * to make a new key: the file is left as it is.
   *
   * @example
   * const identity = await Identity.loadOrCreate('./keys/agent.json');
   */
  static async loadOrCreate(path: string, options: IdentityFileOptions = {}): Promise<Identity> {
    try {
      return await Identity.load(path, options);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const identity = Identity.generate(options);
    const created = await writeKeystore(path, await encodeKeystore(identity.#keys(), options), 'create');
    // Another process created it first: use theirs.
    return created ? identity : Identity.load(path, options);
  }

  /** Writes the keystore atomically (mode 0600), replacing any file at `path`. */
  async save(path: string, options: KeystoreOptions = {}): Promise<void> {
    await writeKeystore(path, await encodeKeystore(this.#keys(), options), 'replace');
  }

  /** Signs bytes with the identity key (Ed25519). Check with `verifyDidSignature(identity.id, ...)`. */
  sign(data: Uint8Array): Buffer {
    return sign(null, data, this.#signingKey);
  }

  /**
   * Signs a receipt for a call this agent served: base64url Ed25519 signature
   * over core's `receiptPayload(receipt)`. Anyone checks it from the callee
   * id with `verifyReceipt({ ...receipt, signature })`.
   */
  signReceipt(receipt: UnsignedReceipt): string {
    return signReceipt(receipt, (data) => this.sign(data));
  }

  /** The signed X25519 public key, to publish in the registry record (`metadata.x25519`). */
  registrationMetadata(): IdentityRegistrationMetadata {
    this.#metadata ??= { x25519: createX25519Binding(this.id, this.#signingKey, rawPublicKey(this.x25519PublicKey)) };
    return { x25519: { ...this.#metadata.x25519 } };
  }

  /**
   * A verifier for incoming signed requests, holding the sessions this
   * identity opens for its callers (see SessionTable); the Agent installs it
   * on its endpoint. Pass `sessions: false` for one that takes per-request
   * Ed25519 signatures only.
   */
  createVerifier(options: Omit<RequestVerifierOptions, 'sessions'> & { sessions?: SessionTableOptions | false } = {}): RequestVerifier {
    const { sessions, ...rest } = options;
    const clock = rest.clock;
    return new RequestVerifier({
      ...rest,
      ...(sessions === false
        ? {}
        : { sessions: new SessionTable(this.id, (data) => this.sign(data), { ...(clock ? { clock } : {}), ...this.#sessionOptions, ...(sessions ?? {}) }) }),
    });
  }

  /**
   * The caller's half of session authentication (see SessionInitiator): the
   * Agent signs its calls with it, opening one session per receiver.
   */
  createSessionAuthenticator(options: SessionInitiatorOptions = {}): SessionInitiator {
    return new SessionInitiator(this.id, {
      ...(this.#clock ? { clock: this.#clock } : {}),
      ...(this.#coverAuthority === undefined ? {} : { coverAuthority: this.#coverAuthority }),
      ...options,
    });
  }

  /** Only the id: private keys are never serialised. */
  toJSON(): { id: string } {
    return { id: this.id };
  }

  [inspect.custom](): string {
    return `Identity { id: '${this.id}' }`;
  }

  #keys(): IdentityKeys {
    return identityKeysOf(this)!;
  }
}
