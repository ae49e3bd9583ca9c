/**
 * The walking skeleton, end to end: a registry and two agents; one finds the
 * other by capability and calls it. Prints each step in plain words, shuts
 * everything down, and exits 0 (or 1 with the step that failed).
 */
import { Agent, createLogger, toSovError, type Logger } from '@sov/core';
import { RegistryServer } from '@sov/registry';
import { createUppercaseAgent, UPPERCASE_CAPABILITY } from './uppercaseAgent';

const quiet: Logger = createLogger({ level: 'warn', meta: { demo: true } });
let stepNo = 0;
let current = 'starting';

function step(what: string): void {
  current = what;
  stepNo++;
}

function say(line: string): void {
  console.log(`  ${stepNo}. ${line}`);
}

async function main(): Promise<void> {
  console.log('Sovereign SDK demo\n');
  const cleanup: Array<() => Promise<void>> = [];
  try {
    step('start the registry');
    const registry = await RegistryServer.start({ logger: quiet });
    cleanup.unshift(() => registry.close());
    say(`Registry listening at ${registry.url}`);

    step('start the uppercase agent');
    const worker = createUppercaseAgent({ name: 'uppercaser', registryUrl: registry.url, logger: quiet });
    await worker.start();
    cleanup.unshift(() => worker.shutdown());
    say(`Agent "uppercaser" (${worker.id}) listening at ${worker.url}, registered with capability ${UPPERCASE_CAPABILITY}`);

    step('start the client agent');
    const client = new Agent({ name: 'client', registryUrl: registry.url, logger: quiet });
    await client.start();
    cleanup.unshift(() => client.shutdown());
    say(`Agent "client" (${client.id}) listening at ${client.url}`);

    step(`find an agent with capability ${UPPERCASE_CAPABILITY}`);
    const found = await client.registry!.search({ capabilities: [UPPERCASE_CAPABILITY] });
    const target = found.agents[0];
    if (!target) throw new Error(`the registry knows no agent with capability ${UPPERCASE_CAPABILITY}`);
    say(`Client searched the registry for "${UPPERCASE_CAPABILITY}": ${found.total} match, "${target.name}" at ${target.endpoint}`);

    step('call the uppercase agent');
    const text = 'hello, sovereign agents';
    const reply = await client.peers.call(target.endpoint, { service: 'uppercase', params: { text } });
    const result = (reply.result as { text: string }).text;
    if (result !== text.toUpperCase()) throw new Error(`expected ${JSON.stringify(text.toUpperCase())}, got ${JSON.stringify(result)}`);
    say(`Client called "${target.name}" with "${text}" and got back "${result}"`);

    step('shut everything down');
    for (const stop of cleanup.splice(0)) await stop();
    say('Both agents deregistered and stopped; registry closed');
    console.log('\nDemo finished: every step passed.');
  } catch (e) {
    const err = toSovError(e);
    console.error(`\nDemo failed at step ${stepNo} (${current}): [${err.code}] ${err.message}`);
    for (const stop of cleanup) await stop().catch(() => undefined);
    process.exitCode = 1;
  }
}

void main();
