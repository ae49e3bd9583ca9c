import type { Command } from 'commander';
import { SovError, isSovError } from '@sov/core';
import type { CommandContext } from '../commandContext';
import { UsageError } from '../cliErrors';
import { amountArg } from '../parseOptions';

/** `sov stake <id>`: read a stake; credit or debit it with the operator token from SOV_OPERATOR_TOKEN. */
export function stakeCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('stake')
    .description("read an agent's stake, or change it as the registry operator")
    .argument('<id>', 'the agent id')
    .option('--credit <n>', 'add n minor units (needs SOV_OPERATOR_TOKEN)', amountArg(1))
    .option('--debit <n>', 'take n minor units, never below zero (needs SOV_OPERATOR_TOKEN)', amountArg(1))
    .addHelpText('after', '\nThe operator token is read from SOV_OPERATOR_TOKEN only, never from the command line.')
    .action(async (id: string, opts: { credit?: number; debit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      if (opts.credit !== undefined && opts.debit !== undefined) throw new UsageError('give --credit or --debit, not both');
      const token = ctx.env.SOV_OPERATOR_TOKEN || undefined;
      const registry = ctx.registry(token);
      const balance = await ctx.reach(() =>
        opts.credit !== undefined ? registry.creditStake(id, opts.credit) : opts.debit !== undefined ? registry.debitStake(id, opts.debit) : registry.getStake(id),
      ).catch((e: unknown) => {
        if (!token && isSovError(e) && e.code === 'UNAUTHORIZED') throw new SovError('UNAUTHORIZED', `${e.message} (set SOV_OPERATOR_TOKEN)`, { cause: e });
        throw e;
      });
      if (ctx.out.json) ctx.out.data(balance);
      else ctx.out.line(`${balance.agentId}: stake ${balance.stake}`);
    });
}
