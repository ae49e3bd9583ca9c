import { SESSION_PATH } from '@sov/core';
import type { Identity, SessionInitiator } from '@sov/crypto';
import { rawPost } from './rawPost';

/** One caller's raw view of the protocol: its handshake and its session requests, signed as agent.call would sign them. */
export class RawCaller {
  readonly sessions: SessionInitiator;
  constructor(readonly identity: Identity) {
    this.sessions = identity.createSessionAuthenticator();
  }

  handshakeHeaders(origin: string, receiverId: string, body: Uint8Array): Record<string, string> {
    const sov = { 'x-sov-receiver': receiverId };
    return { 'content-type': 'application/json', ...sov, ...this.identity.signer.sign({ method: 'POST', url: `${origin}${SESSION_PATH}`, body, headers: sov }) };
  }

  async open(origin: string, receiverId: string): Promise<string> {
    const offer = this.sessions.offer(`${receiverId} ${origin}`, receiverId);
    const answer = await rawPost(`${origin}${SESSION_PATH}`, this.handshakeHeaders(origin, receiverId, offer.body), offer.body);
    if (answer.status !== 200) throw new Error(`handshake refused: ${answer.status} ${JSON.stringify(answer.body)}`);
    offer.complete(answer.body);
    return this.sessions.sessionWith(`${receiverId} ${origin}`)!;
  }

  sessionHeaders(origin: string, receiverId: string, body: Uint8Array): Record<string, string> {
    const sov = { 'x-sov-receiver': receiverId };
    const signed = this.sessions.sign(`${receiverId} ${origin}`, { method: 'POST', url: `${origin}/rpc`, body, headers: sov });
    if (!signed) throw new Error('no session open');
    return { 'content-type': 'application/json', ...sov, ...signed };
  }
}

