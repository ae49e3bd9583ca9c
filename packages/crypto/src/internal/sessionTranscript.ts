import { createHash, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';

/** The protocol label of session handshakes and their keys. */
export const SESSION_PROTOCOL = 'sov-session/v1';

/** The facts both sides sign or derive from: who, with which ephemeral keys, which session, until when. */
export interface SessionFacts {
  callerId: string;
  receiverId: string;
  /** The caller's ephemeral X25519 public key, base64url. */
  callerEphemeral: string;
  /** The receiver's ephemeral X25519 public key, base64url. */
  receiverEphemeral: string;
  sessionId: string;
  /** Unix seconds after which the receiver refuses the session. */
  expires: number;
}

/** The bytes the receiver signs (Ed25519) to answer a handshake: both identities and both ephemeral keys are bound in. */
export function sessionTranscript(facts: SessionFacts): Buffer {
  return Buffer.from(
    `${SESSION_PROTOCOL}\n${facts.callerId}\n${facts.receiverId}\n${facts.callerEphemeral}\n${facts.receiverEphemeral}\n${facts.sessionId}\n${facts.expires}`,
  );
}

/**
 * The session's request-authentication key: HKDF-SHA256 over the X25519
 * shared secret, salted with the transcript's hash, so the key belongs to
 * these two identities, these ephemeral keys and this session id only.
 */
export function sessionKey(privateKey: KeyObject, publicKey: KeyObject, transcript: Buffer): Buffer {
  const shared = diffieHellman({ privateKey, publicKey });
  const salt = createHash('sha256').update(transcript).digest();
  return Buffer.from(hkdfSync('sha256', shared, salt, `${SESSION_PROTOCOL} caller-to-receiver request mac`, 32));
}
