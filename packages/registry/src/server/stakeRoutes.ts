import type { FastifyInstance } from 'fastify';
import { MAX_AMOUNT, SovError, isAmount } from '@sov/core';
import type { RouteContext } from './routeContext';

/**
 * Stakes: anyone reads one (`GET /v1/stakes/:id`); the operator, with its
 * token, credits and debits them (`POST /v1/stakes/:id/credit`, `.../debit`).
 */
export function stakeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, logger, auth, input, events } = ctx;

  app.get<{ Params: { id: string } }>('/v1/stakes/:id', async (req) => ({
    success: true,
    stake: { agentId: req.params.id, stake: await store.getStake(req.params.id) },
  }));

  for (const op of ['credit', 'debit'] as const) {
    app.post<{ Params: { id: string } }>(`/v1/stakes/:id/${op}`, async (req) => {
      auth.requireOperator(req);
      const body = input.body(req);
      const given = (body as { amount?: unknown } | null)?.amount;
      if (typeof given === 'number' && !(isAmount(given) && given > 0)) {
        throw new SovError('INVALID_AMOUNT', `A stake ${op} must be a whole number of minor units from 1 to ${MAX_AMOUNT}; got ${given}`);
      }
      const { amount } = input.check<{ amount: number }>('stake', `stake ${op}`, body);
      const stake = await store.adjustStake(req.params.id, op === 'credit' ? amount : -amount);
      logger.info(`stake ${op}ed`, { agentId: req.params.id, amount, stake });
      await events.publish('stake_changed', { peer_id: req.params.id, stake, change: op === 'credit' ? amount : -amount });
      return { success: true, stake: { agentId: req.params.id, stake } };
    });
  }
}
