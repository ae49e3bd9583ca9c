import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PeerClient, isSovError, type AgentRecord } from '@sov/core';
import type { CommandContext } from '../commandContext';
import { UsageError } from '../cliErrors';
import { integerArg } from '../parseOptions';

/** Failures after which the next agent with the capability is tried. */
const FAILOVER = new Set(['NETWORK_ERROR', 'TIMEOUT', 'UNAVAILABLE']);

/** `sov call`: a signed call of one service of an agent, found by id or by capability. */
export function callCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('call')
    .description("call an agent's service, signed with your keystore")
    .usage('<id> <service> <json>  |  --capability <name> <service> <json>')
    .argument('[args...]', '<id> <service> <json>, or <service> <json> with --capability')
    .option('--capability <name>', 'call the best-ranked agent with this capability (the next on a network failure)')
    .option('--key <file>', 'the keystore to sign with (env SOV_KEY_FILE); its passphrase from SOV_KEY_PASSPHRASE')
    .option('--call-timeout <ms>', 'deadline of the call in ms', integerArg(1, 600_000), 10_000)
    .action(async (args: string[], opts: { capability?: string; key?: string; callTimeout: number }, cmd: Command) => {
      // Loaded here, not at start: the commands that need no key start faster.
      const { Identity } = await import('@sov/crypto');
      const ctx = context(cmd);
      const expected = opts.capability === undefined ? 3 : 2;
      if (args.length !== expected) {
        throw new UsageError(
          opts.capability === undefined
            ? `call takes <id> <service> <json> (got ${args.length} argument${args.length === 1 ? '' : 's'})`
            : `call --capability takes <service> <json> (got ${args.length} argument${args.length === 1 ? '' : 's'})`,
        );
      }
      const [target, service, json] = opts.capability === undefined ? (args as [string, string, string]) : [undefined, args[0]!, args[1]!];
      let params: unknown;
      try {
        params = JSON.parse(json);
      } catch (e) {
        throw new UsageError(`the params are not JSON: ${(e as Error).message}`);
      }
      const keyFile = opts.key ?? ctx.env.SOV_KEY_FILE;
      if (!keyFile) throw new UsageError('call needs a keystore to sign with: --key <file> or SOV_KEY_FILE (create one with sov keygen)');
      const passphrase = ctx.env.SOV_KEY_PASSPHRASE || undefined;
      const identity = await Identity.load(resolve(keyFile), passphrase ? { passphrase } : {});

      const registry = ctx.registry();
      const candidates: AgentRecord[] =
        target !== undefined
          ? [await ctx.reach(() => registry.get(target))]
          : (await ctx.reach(() => registry.search({ capabilities: [opts.capability!], limit: 3 }))).agents;
      if (candidates.length === 0) throw new UsageError(`no live agent has the capability ${JSON.stringify(opts.capability)}`);

      const peers = new PeerClient({ signer: identity.signer, timeoutMs: opts.callTimeout });
      try {
        let lastError: unknown;
        for (const agent of candidates) {
          try {
            // The signature names its receiver (x-sov-receiver): no other agent would accept it.
            const reply = await peers.call(agent.endpoint, { service, params }, { receiver: agent.id });
            if (ctx.out.json) ctx.out.data({ agentId: agent.id, endpoint: agent.endpoint, result: reply.result });
            else ctx.out.line(JSON.stringify(reply.result, null, 2));
            return;
          } catch (e) {
            lastError = e;
            if (target !== undefined || !(isSovError(e) && FAILOVER.has(e.code))) throw e;
            ctx.note(`sov call: ${agent.id} at ${agent.endpoint} failed (${e.code}); trying the next match`);
          }
        }
        throw lastError;
      } finally {
        await peers.close();
      }
    });
}
