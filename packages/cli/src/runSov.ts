import { Command, CommanderError } from 'commander';
import { EXIT_CODES, type ExitCode } from './exitCodes';
import { describeFailure } from './internal/cliErrors';
import { CommandContext, DEFAULT_REGISTRY_URL, type GlobalOptions, type SovIo } from './internal/commandContext';
import { integerArg } from './internal/parseOptions';
import { agentsCommand } from './internal/commands/agentsCommand';
import { callCommand } from './internal/commands/callCommand';
import { eventsCommand } from './internal/commands/eventsCommand';
import { getCommand } from './internal/commands/getCommand';
import { keygenCommand } from './internal/commands/keygenCommand';
import { searchCommand } from './internal/commands/searchCommand';
import { stakeCommand } from './internal/commands/stakeCommand';

const EXIT_HELP = `
Exit codes:
  0  done
  1  the registry or a peer refused or failed it (the wire code is printed), or a local file could not be used
  2  bad arguments; nothing was sent
  3  the registry did not answer

Environment:
  SOV_REGISTRY_URL     the registry (default ${DEFAULT_REGISTRY_URL}); --registry overrides it
  SOV_KEY_FILE         the keystore of keygen and call; --key overrides it
  SOV_KEY_PASSPHRASE   encrypts (keygen) and opens (call) the keystore
  SOV_OPERATOR_TOKEN   the registry operator's token, for stake --credit / --debit
  NO_COLOR             no colour (there is none when the output is not a terminal either)`;

function program(io: SovIo, failed: { command: string }): Command {
  const root = new Command('sov')
    .description('Sovereign SDK command line: keys, agents, search, calls, events and stakes of a registry')
    .option('--registry <url>', `the registry's URL (env SOV_REGISTRY_URL, default ${DEFAULT_REGISTRY_URL})`)
    .option('--json', 'print JSON instead of tables (one JSON value per line for events)')
    .option('--timeout <ms>', 'deadline of each registry request in ms', integerArg(1, 600_000), 5000)
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's refusals, in the same one-line shape as every other failure.
      outputError: (s, write) => write(`sov${failed.command ? ` ${failed.command}` : ''}: USAGE: ${s.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()} (see --help)\n`),
    });
  root.hook('preSubcommand', (_root, sub) => {
    failed.command = sub.name();
  });
  const context = (cmd: Command) => new CommandContext(io, cmd.optsWithGlobals<GlobalOptions>());
  for (const add of [keygenCommand, agentsCommand, searchCommand, getCommand, callCommand, eventsCommand, stakeCommand]) add(root, context);
  return root;
}

/**
 * Runs the `sov` command line with `argv` (the arguments after the program
 * name) and resolves to its exit code (see EXIT_CODES); it never throws and
 * never exits the process. A failure is one line on stderr:
 * `sov <command>: <CODE>: <message>`.
 *
 * @example
 * const code = await runSov(['search', '--capability', 'text.uppercase', '--json'], { stdout: process.stdout, stderr: process.stderr });
 */
export async function runSov(argv: string[], io: SovIo): Promise<ExitCode> {
  const failed = { command: '' };
  try {
    await program(io, failed).parseAsync(argv, { from: 'user' });
    return EXIT_CODES.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_CODES.OK;
      return EXIT_CODES.USAGE;
    }
    const { code, message, exitCode } = describeFailure(e);
    io.stderr.write(`sov${failed.command ? ` ${failed.command}` : ''}: ${code}: ${message}\n`);
    return exitCode;
  }
}
