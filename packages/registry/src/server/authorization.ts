import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SovError, type ReceiverBinding, type VerifiedCaller, type Verifier } from '@sov/core';

/** Who may do what at a registry. */
export interface AuthorizationOptions {
  /** Verifies signed requests; without one only an insecure registry takes requests that need a signer. */
  verifier: Verifier | undefined;
  /** Accept unsigned requests and trust the ids in them. */
  insecure: boolean;
  /** Bearer token that credits and debits stakes; stake changes are refused without one. */
  operatorToken: string | undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The registry's authorization: which agent signed a request (checked before
 * anything else is done with it), that the signer acts only for itself, and
 * the operator token that stake changes need.
 */
export class Authorization {
  private bound: ReceiverBinding | undefined;

  constructor(private readonly options: AuthorizationOptions) {}

  /** The authorities the registry answers to, once listening: a request signed for another receiver is refused. */
  get receiver(): ReceiverBinding | undefined {
    return this.bound;
  }

  /** Sets the authorities signed requests must name (once the port is bound). */
  bindReceiver(receiver: ReceiverBinding): void {
    this.bound = receiver;
  }

  /** Verifies the request's signature; undefined for an unsigned one where that is allowed (not `required`, or insecure). */
  async caller(req: FastifyRequest, required: boolean): Promise<VerifiedCaller | undefined> {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verifiable = {
      method: req.method,
      path: req.url,
      authority: req.headers.host ?? '',
      headers: req.headers,
      body: raw,
      ...(this.bound ? { receiver: this.bound } : {}),
    };
    const { verifier } = this.options;
    if (verifier?.isSigned(verifiable)) return verifier.verify(verifiable);
    if (required && !this.options.insecure) throw new SovError('UNAUTHORIZED', `${req.method} ${req.url.split('?')[0]} needs a signed request`);
    return undefined;
  }

  /** The signer must be the agent the request acts for. */
  actingAs(caller: VerifiedCaller | undefined, agentId: string): void {
    if (caller && caller.id !== agentId) {
      throw new SovError('ID_MISMATCH', `Request signed by ${caller.id} cannot act for agent ${agentId}`);
    }
  }

  /** The request must carry the operator token (compared in constant time). */
  requireOperator(req: FastifyRequest): void {
    const { operatorToken } = this.options;
    if (!operatorToken) throw new SovError('FORBIDDEN', 'Stake changes are disabled: this registry has no operator token');
    const header = req.headers.authorization;
    if (!header) throw new SovError('UNAUTHORIZED', 'Stake changes need the operator token (Authorization: Bearer ...)');
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!sameSecret(token, operatorToken)) throw new SovError('FORBIDDEN', 'The operator token is wrong');
  }
}
