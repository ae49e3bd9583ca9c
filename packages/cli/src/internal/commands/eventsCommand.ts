import type { Command } from 'commander';
import { RegistryEventStream, type RegistryEvent, type RegistryEventType, type SovError } from '@sov/core';
import type { CommandContext } from '../commandContext';
import { UsageError } from '../cliErrors';
import { collectEventType, integerArg } from '../parseOptions';

interface EventsOptions {
  follow?: boolean;
  type?: RegistryEventType[];
  fromStart?: boolean;
  lastEventId?: string;
  idle: number;
}

function summary(e: RegistryEvent): string {
  const { peer_id: _peer, ...rest } = e.data;
  return Object.keys(rest).length ? JSON.stringify(rest) : '';
}

/**
 * `sov events`: the registry's event stream. With --follow it runs until
 * SIGINT/SIGTERM, reconnecting and resuming by itself (Last-Event-ID);
 * without, it prints the events the registry retains and exits once the
 * stream has been quiet for --idle ms.
 */
export function eventsCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('events')
    .description('print registry events; --follow keeps streaming until Ctrl-C')
    .option('--follow', 'stream new events until interrupted (reconnects and resumes on its own)')
    .option('--type <type>', 'only this event type (repeat for several)', collectEventType)
    .option('--from-start', 'with --follow: first replay every event the registry retains')
    .option('--last-event-id <id>', 'resume after this event id')
    .option('--idle <ms>', 'without --follow: exit after this long without an event', integerArg(1, 600_000), 1000)
    .action(async (opts: EventsOptions, cmd: Command) => {
      const ctx = context(cmd);
      if (opts.lastEventId !== undefined && !/^\d{1,15}$/.test(opts.lastEventId)) {
        throw new UsageError(`--last-event-id must be an event id, decimal digits (got ${JSON.stringify(opts.lastEventId)})`);
      }
      if (opts.lastEventId !== undefined && opts.fromStart) throw new UsageError('give --from-start or --last-event-id, not both');
      const resume = opts.lastEventId !== undefined ? { lastEventId: opts.lastEventId } : opts.fromStart || !opts.follow ? { fromStart: true } : {};
      const stream = new RegistryEventStream(ctx.registryUrl, { ...(opts.type ? { types: opts.type } : {}), ...resume, reconnectDelayMs: 250 });
      const c = ctx.out.colors;
      await new Promise<void>((done, fail) => {
        let connected = false;
        let outage = false;
        let finished = false;
        let idleTimer: ReturnType<typeof setTimeout> | undefined;
        const finish = (error?: unknown) => {
          if (finished) return;
          finished = true;
          if (idleTimer) clearTimeout(idleTimer);
          ctx.io.signal?.removeEventListener('abort', onAbort);
          void stream.close().then(() => (error === undefined ? done() : fail(error instanceof Error ? error : new Error('events stream failed', { cause: error }))));
        };
        const onAbort = () => finish();
        const idle = () => {
          if (opts.follow) return;
          if (idleTimer) clearTimeout(idleTimer);
          idleTimer = setTimeout(() => finish(), opts.idle);
        };
        if (ctx.io.signal?.aborted) return finish();
        ctx.io.signal?.addEventListener('abort', onAbort);
        stream.onConnect(() => {
          if (!connected && opts.follow) ctx.note(`sov events: following ${ctx.registryUrl}; Ctrl-C to stop`);
          connected = true;
          if (outage) ctx.note('sov events: connected again; resuming after the last event seen');
          outage = false;
          idle();
        });
        stream.onEvent((e) => {
          if (ctx.out.json) ctx.out.record(e);
          else ctx.out.line(`${c.dim(e.id.padStart(6))} ${c.dim(e.at)} ${c.bold(e.type)} ${e.data.peer_id} ${summary(e)}`);
          idle();
        });
        stream.onError((e: SovError) => {
          // Before the first connection a failure ends the command; after it, the stream keeps trying.
          if (!connected) return finish(ctx.unreachable(e) ?? e);
          if (!outage) ctx.note(`sov events: ${e.code}: ${e.message}; reconnecting`);
          outage = true;
        });
        stream.start();
      });
    });
}
