import type { Command } from 'commander';
import type { SearchQuery } from '@sov/core';
import type { CommandContext } from '../commandContext';
import { printAgents } from '../agentTable';
import { amountArg, collect, integerArg, reputationArg } from '../parseOptions';

/** `sov search`: the registry's search, as the API does it. */
export function searchCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('search')
    .description('find agents by capability, minimum reputation and maximum price')
    .option('--capability <name>', 'a capability every match must have (repeat for several)', collect)
    .option('--min-reputation <x>', 'lowest reputation, 0 to 1', reputationArg)
    .option('--max-price <n>', 'highest price of a call, in minor units', amountArg(0))
    .option('--limit <n>', 'at most this many (1-500)', integerArg(1, 500), 50)
    .action(async (opts: { capability?: string[]; minReputation?: number; maxPrice?: number; limit: number }, cmd: Command) => {
      const ctx = context(cmd);
      const query: SearchQuery = { limit: opts.limit };
      if (opts.capability) query.capabilities = opts.capability;
      if (opts.minReputation !== undefined) query.minReputation = opts.minReputation;
      if (opts.maxPrice !== undefined) query.maxPrice = opts.maxPrice;
      const page = await ctx.reach(() => ctx.registry().search(query));
      printAgents(ctx.out, page.agents, page.total, Date.now());
    });
}
