import type { Command } from 'commander';
import type { AgentRecord } from '@sov/core';
import type { CommandContext } from '../commandContext';
import { printAgents } from '../agentTable';
import { integerArg } from '../parseOptions';

/** `sov agents`: every live agent, page by page, best reputation first. */
export function agentsCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('agents')
    .description('list the live agents (best reputation first)')
    .option('--limit <n>', 'at most this many (1-100000)', integerArg(1, 100_000), 100)
    .action(async (opts: { limit: number }, cmd: Command) => {
      const ctx = context(cmd);
      const registry = ctx.registry();
      const agents: AgentRecord[] = [];
      let cursor: string | undefined;
      let total = 0;
      do {
        const page = await ctx.reach(() => registry.search({ limit: Math.min(500, opts.limit - agents.length), ...(cursor ? { cursor } : {}) }));
        agents.push(...page.agents);
        total = page.total;
        cursor = page.nextCursor ?? undefined;
      } while (cursor && agents.length < opts.limit);
      printAgents(ctx.out, agents, total, Date.now());
    });
}
