/**
 * The servers of the peer benchmark, one per process, as deployed. Each
 * prints one ready line on stdout, `ready <json>` (its url or node id and
 * pid), then serves until SIGTERM or until its parent goes away. Modes:
 * - `agent`: an Agent with an Identity (every call authenticated, anonymous
 *   calls refused) and the service router serving `process`;
 * - `agent-anonymous`: the same, with `allowAnonymous: true` (the unsigned calls);
 * - `moleculer <namespace>`: a Moleculer 0.14 broker on the NATS transporter
 *   serving `bench.process` with fastest-validator params.
 * Over the IPC channel the parent may ask for a CPU profile of a stretch of
 * the run (see serverProfiling.ts).
 */
import { ServiceBroker } from 'moleculer';
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { answerProfileRequests } from './serverProfiling';
import { moleculerParamsSchema, processService, runAlgorithm, type ProcessParams } from './processService';
import { NATS_URL } from './nats';

const mode = process.argv[2];

async function agentServer(allowAnonymous: boolean): Promise<{ ready: Record<string, unknown>; stop: () => Promise<void> }> {
  const agent = new Agent({
    name: allowAnonymous ? 'peer-bench-anonymous' : 'peer-bench',
    identity: Identity.generate(),
    allowAnonymous,
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ silent: true }),
  });
  agent.use(serviceRouter()).register(processService);
  await agent.start();
  return { ready: { url: agent.url, id: agent.id }, stop: () => agent.shutdown() };
}

async function moleculerServer(namespace: string): Promise<{ ready: Record<string, unknown>; stop: () => Promise<void> }> {
  const broker = new ServiceBroker({ nodeID: 'peer-bench-server', namespace, transporter: NATS_URL, logger: false });
  broker.createService({
    name: 'bench',
    actions: {
      process: {
        params: moleculerParamsSchema,
        handler: (ctx: { params: ProcessParams }) => runAlgorithm(ctx.params),
      },
    },
  });
  await broker.start();
  return { ready: { nodeID: broker.nodeID }, stop: () => broker.stop() };
}

async function main(): Promise<void> {
  let server: { ready: Record<string, unknown>; stop: () => Promise<void> };
  if (mode === 'agent' || mode === 'agent-anonymous') server = await agentServer(mode === 'agent-anonymous');
  else if (mode === 'moleculer' && process.argv[3]) server = await moleculerServer(process.argv[3]);
  else throw new Error(`usage: peerServers.ts agent | agent-anonymous | moleculer <namespace> (got ${process.argv.slice(2).join(' ')})`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  answerProfileRequests();
  process.stdout.write(`ready ${JSON.stringify({ ...server.ready, pid: process.pid })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`peer-bench server ${mode ?? ''} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
