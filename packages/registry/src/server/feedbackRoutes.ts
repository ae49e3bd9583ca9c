import type { FastifyInstance } from 'fastify';
import { SovError, ValidationError, type CallReceipt } from '@sov/core';
import { ratedStanding } from '../internal/reputation';
import type { RouteContext } from './routeContext';

/** What feedback is accepted with, and how much one rating moves a reputation. */
export interface FeedbackRouteOptions {
  /** Checks a call receipt's signature against its callee's id; required unless insecure. */
  receiptVerifier: ((receipt: CallReceipt) => boolean) | undefined;
  /** Take feedback without a receipt verifier (receipts are then not checked). */
  insecure: boolean;
  /** Oldest receipt accepted, in seconds. */
  maxReceiptAgeSec: number;
  /** How far a receipt may be dated ahead of the registry's clock, in seconds. */
  maxReceiptSkewSec: number;
  /** Weight of a newcomer's prior reputation, in raters. */
  reputationPriorWeight: number;
  /** Raters remembered one by one per agent. */
  maxRatersPerAgent: number;
}

/**
 * `POST /v1/feedback`: the caller of a call rates it, with the callee's
 * signed receipt; each receipt counts once, and the rating moves the callee's
 * reputation (one vote per rater).
 */
export function feedbackRoutes(app: FastifyInstance, ctx: RouteContext, options: FeedbackRouteOptions): void {
  const { store, clock, auth, input, agentLocks, events } = ctx;
  const { receiptVerifier, maxReceiptAgeSec, maxReceiptSkewSec } = options;
  const rules = { priorWeight: options.reputationPriorWeight, maxRaters: options.maxRatersPerAgent };

  app.post('/v1/feedback', async (req) => {
    const caller = await auth.caller(req, true);
    const { receipt, rating } = input.check<{ receipt: CallReceipt; rating: number }>('feedback', 'feedback', input.body(req));
    if (caller && caller.id !== receipt.caller) {
      throw new SovError('FORBIDDEN', `Only the agent that was served (${receipt.caller}) can rate this call; the request is signed by ${caller.id}`);
    }
    if (receipt.caller === receipt.callee) throw new SovError('FORBIDDEN', 'An agent cannot rate itself');
    const at = Date.parse(receipt.at);
    if (Number.isNaN(at)) throw new ValidationError('feedback', [{ path: '/receipt/at', message: 'must be an ISO date' }]);
    if (clock.now() - at > maxReceiptAgeSec * 1000) {
      throw new SovError('SIGNATURE_EXPIRED', `The receipt is from ${receipt.at}, older than ${maxReceiptAgeSec} s`);
    }
    if (at - clock.now() > maxReceiptSkewSec * 1000) {
      throw new SovError(
        'SIGNATURE_EXPIRED',
        `The receipt is dated ${receipt.at}, later than this registry's clock allows (${maxReceiptSkewSec} s of skew)`,
      );
    }
    if (!options.insecure || receiptVerifier) {
      if (!receiptVerifier) throw new SovError('UNAVAILABLE', 'This registry cannot verify receipts');
      if (!receiptVerifier(receipt)) {
        throw new SovError('SIGNATURE_INVALID', `The receipt ${receipt.id} is not signed by ${receipt.callee}`);
      }
    }
    // The rating counts for the id whether or not it is registered right now: leaving cannot dodge it.
    const reputation = await agentLocks.run(receipt.callee, async () => {
      const now = clock.now();
      const previous = await store.getStanding(receipt.callee);
      const current = await store.get(receipt.callee);
      if (!current && !previous) throw new SovError('NOT_FOUND', `No agent registered or rated with id ${receipt.callee}`);
      const standing = ratedStanding(previous, receipt.callee, receipt.caller, rating, now, rules);
      const agent = current ? { ...current, reputation: standing.reputation } : undefined;
      if (!(await store.recordFeedback({ receiptId: receipt.id, standing, ...(agent ? { agent } : {}) }))) {
        throw new SovError('CONFLICT', `The receipt ${receipt.id} has already been used for feedback`);
      }
      await events.publish('reputation_changed', { peer_id: receipt.callee, reputation: standing.reputation, rating, from: receipt.caller });
      return standing.reputation;
    });
    return { success: true, agentId: receipt.callee, reputation };
  });
}
