import type { Command } from 'commander';
import type { CommandContext } from '../commandContext';
import { leaseLeft } from '../agentTable';

/** `sov get <id>`: one agent's record, catalog and stake. */
export function getCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('get')
    .description("one agent's record, services and stake")
    .argument('<id>', 'the agent id (did:key:...)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const registry = ctx.registry();
      const agent = await ctx.reach(() => registry.get(id));
      const { stake } = await ctx.reach(() => registry.getStake(id));
      if (ctx.out.json) {
        ctx.out.data({ agent, stake });
        return;
      }
      ctx.out.fields([
        ['name', agent.name],
        ['id', agent.id],
        ['endpoint', agent.endpoint],
        ['capabilities', agent.capabilities.join(', ') || '-'],
        ['reputation', agent.reputation.toFixed(3)],
        ['availability', `${(agent.availability * 100).toFixed(0)}%`],
        ['stake', String(stake)],
        ['registered', agent.registeredAt],
        ['last heartbeat', agent.lastHeartbeat],
        ['lease', `${agent.ttl} s, ${leaseLeft(agent.expiresAt, Date.now())} left`],
      ]);
      if (agent.services.length) {
        ctx.out.table(
          ['service', 'description', 'price', 'stake needed'],
          agent.services.map((s) => [s.name, s.description ?? '', s.price === undefined ? '-' : String(s.price), s.requiresStake ? String(s.minStake ?? 0) : '-']),
        );
      }
      if (Object.keys(agent.metadata).length) ctx.out.line(JSON.stringify(agent.metadata, null, 2));
    });
}
