/**
 * The Sovereign SDK, end to end, in plain words: a registry that checks
 * signatures, two agents with their own keys; discovery by capability, a
 * signed call, a sealed message, forged requests refused, a stake-gated
 * service before and after the stake is credited, feedback with a receipt,
 * state kept on disk, events the agents react to. Exits 0, or 1 naming the
 * step that failed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, HttpRegistryClient, PeerClient, createLogger, isSovError, toSovError, type Logger } from '@sov/core';
import { Identity, RequestVerifier, secureMessaging, verifyReceipt } from '@sov/crypto';
import { events, type AgentEvent, type RegistryEventData } from '@sov/events';
import { EmbeddedRegistryStore, RegistryServer } from '@sov/registry';
import { createReferenceAgent, TEXT_CAPABILITY } from './referenceAgent';
import { federationSteps, planFederation } from './federationDemo';

const quiet: Logger = createLogger({ level: 'error', meta: { demo: true } });
const OPERATOR_TOKEN = 'demo-operator-token';
let stepNo = 0;
let current = 'starting';

function step(what: string): void {
  current = what;
  stepNo++;
}

let lastSaid = 0;
function say(line: string): void {
  console.log(`${lastSaid === stepNo ? '    ' : `  ${String(stepNo).padStart(2)}.`} ${line}`);
  lastSaid = stepNo;
}

const short = (id: string) => `${id.slice(0, 16)}…${id.slice(-6)}`;

/** A sample of an agent's /metrics (the first line that starts with `series`), 0 when absent. */
async function metricOf(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Runs `fn` and returns the error code it was refused with; fails the step if it was not refused. */
async function refusal(what: string, fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (isSovError(e)) return e.code;
    throw e;
  }
  throw new Error(`${what} was accepted; it should have been refused`);
}

async function main(): Promise<void> {
  console.log('Sovereign SDK demo\n');
  const dir = await mkdtemp(join(tmpdir(), 'sov-demo-'));
  const cleanup: Array<() => Promise<void>> = [async () => rm(dir, { recursive: true, force: true })];
  try {
    step('start the registry');
    const federated = await planFederation(); // federation (#13): the second registry's key and port, so this one can name it as its peer
    const registry = await RegistryServer.start({
      federation: federated.first(),
      logger: quiet,
      verifier: new RequestVerifier(),
      receiptVerifier: verifyReceipt,
      operatorToken: OPERATOR_TOKEN,
      store: new EmbeddedRegistryStore({ dir: join(dir, 'registry') }),
    });
    cleanup.unshift(() => registry.close());
    say(`Registry listening at ${registry.url}; it accepts only signed registrations`);

    step('start the reference agent');
    const worker = createReferenceAgent({
      name: 'uppercaser',
      identity: Identity.generate(),
      registryUrl: registry.url,
      stateDir: join(dir, 'state'),
      logger: quiet,
    });
    await worker.agent.start();
    cleanup.unshift(() => worker.agent.shutdown());
    say(`Agent "uppercaser" ${short(worker.agent.id)} at ${worker.agent.url}: services ${worker.services.services.join(', ')}`);

    step('start the client agent');
    const clientIdentity = Identity.generate();
    const client = new Agent({ name: 'client', identity: clientIdentity, registryUrl: registry.url, logger: quiet });
    const clientSecure = client.use(secureMessaging());
    const clientFed = client.use(federated.clientFederation()); // federation (#13): searches the second registry too
    // The client's event queue follows the registry; fromStart replays what the registry retains, so it hears of the uppercaser that joined first.
    const clientEvents = client.use(events({ registry: { types: ['peer_joined', 'stake_changed'], fromStart: true } }));
    const joined = new Promise<AgentEvent<string, RegistryEventData>>((resolve) =>
      clientEvents.on('peer_joined', async (e) => void (e.data.peer_id === worker.agent.id && resolve(e))),
    );
    const stakes: Array<AgentEvent<string, RegistryEventData>> = [];
    const stakeSeen = new Promise<void>((resolve) => clientEvents.on('stake_changed', async (e) => void (stakes.push(e), resolve())));
    await client.start();
    cleanup.unshift(() => client.shutdown());
    say(`Agent "client" ${short(client.id)} at ${client.url}`);

    step('react to registry events');
    const peerJoined = await joined;
    say(`The client's peer_joined handler saw "uppercaser" ${short(peerJoined.data.peer_id)} join (event ${peerJoined.id}, from ${peerJoined.source})`);
    say('The uppercaser forgets a cached stake as soon as its stake_changed handler hears of a change');

    step(`find an agent with capability ${TEXT_CAPABILITY}`);
    const found = await client.registry!.search({ capabilities: [TEXT_CAPABILITY] });
    const target = found.agents[0];
    if (!target) throw new Error(`the registry knows no agent with capability ${TEXT_CAPABILITY}`);
    say(`Client searched for "${TEXT_CAPABILITY}": ${found.total} match, "${target.name}" (reputation ${target.reputation}, availability ${target.availability})`);

    step('call the uppercase service');
    const text = 'hello, sovereign agents';
    const upper = await client.call<{ text: string }>(target.id, 'uppercase', { text });
    if (upper.text !== text.toUpperCase()) throw new Error(`expected ${JSON.stringify(text.toUpperCase())}, got ${JSON.stringify(upper.text)}`);
    say(`Signed call to "uppercase" with "${text}" returned "${upper.text}"`);
    for (const word of ['one', 'two', 'three']) await client.call(target.id, 'uppercase', { text: word });
    const handshakes = await metricOf(worker.agent.url!, 'sov_agent_requests_total{route="/sov/session",code="ok"}');
    if (handshakes !== 1) throw new Error(`expected one session handshake for four calls, the uppercaser saw ${handshakes}`);
    say('Four calls, one session: 1 Ed25519-signed handshake (X25519, both identities bound), then HMAC-SHA256 (RFC 9421) per request');
    const multiplexed = await metricOf(worker.agent.url!, 'sov_agent_mux_requests_total');
    const connections = await metricOf(worker.agent.url!, 'sov_agent_mux_connections ');
    if (multiplexed < 4 || connections !== 1) throw new Error(`expected the four calls on one sov-mux connection, the uppercaser saw ${multiplexed} on ${connections}`);
    say(`...on one connection: ${multiplexed} calls multiplexed (sov-mux/1, an HTTP Upgrade on the agent's port), each frame verified like an HTTP request`);

    step('send a sealed message');
    const received = new Promise<{ from: string; message: unknown }>((resolve) => worker.secure.onMessage((m) => resolve(m)));
    await clientSecure.sendSecureMessage(worker.agent.id, { note: 'meet at the usual place' });
    const opened = await received;
    if (opened.from !== client.id) throw new Error('the sealed message did not come from the client');
    say(`Sealed message (HPKE X25519 + ChaCha20-Poly1305, signed by the sender) opened by the uppercaser: ${JSON.stringify(opened.message)}`);

    step('refuse forged requests');
    const mallory = Identity.generate();
    const impersonation = await refusal('registering under the uppercaser id', () =>
      new HttpRegistryClient({ baseUrl: registry.url, signer: mallory.signer }).register({
        id: worker.agent.id,
        name: 'uppercaser',
        endpoint: 'http://127.0.0.1:1',
        capabilities: [TEXT_CAPABILITY],
      }),
    );
    say(`Mallory tried to register with the uppercaser's id: refused with ${impersonation}`);
    const tampering = await refusal('a call whose body was changed after signing', () => {
      const signer = {
        keyId: mallory.signer.keyId,
        sign: (req: Parameters<typeof mallory.signer.sign>[0]) => {
          const headers = mallory.signer.sign(req);
          const i = req.body.length - 3;
          req.body[i] = req.body[i]! ^ 1; // one bit flipped after the signature was made
          return headers;
        },
      };
      return new PeerClient({ signer }).call(worker.agent.url!, { service: 'uppercase', params: { text: 'pay mallory' } });
    });
    say(`Mallory changed one bit of a signed call: refused with ${tampering}`);
    const unsigned = await refusal('an unsigned call', () => new PeerClient().call(worker.agent.url!, { service: 'uppercase', params: { text: 'hi' } }));
    say(`An unsigned call: refused with ${unsigned}`);

    step('call a stake-gated service');
    const before = await refusal('analyse without stake', () => client.call(target.id, 'analyse', { text: 'stake gated analysis' }));
    say(`"analyse" needs a stake of 100; with stake 0 the client is refused with ${before}`);
    // The uppercaser's own stake_changed handler drops its cached stake; wait until its queue had the event too.
    const workerSaw = new Promise<void>((resolve) => worker.events.once('stake_changed', async () => resolve()));
    const credited = await new HttpRegistryClient({ baseUrl: registry.url, operatorToken: OPERATOR_TOKEN }).creditStake(client.id, 150);
    await Promise.all([stakeSeen, workerSaw]);
    say(`The registry operator credited the client: stake ${credited.stake}; the client's stake_changed handler saw stake ${String(stakes[0]!.data.stake)}`);
    const analysis = await client.callDetailed<{ words: number; longest: string }>(target.id, 'analyse', { text: 'stake gated analysis works' });
    say(`"analyse" now succeeds: ${analysis.result.words} words, longest "${analysis.result.longest}"`);

    step('give feedback with the call receipt');
    if (!analysis.receipt) throw new Error('the call came back without a receipt');
    const { reputation } = await client.registry!.submitFeedback({ receipt: analysis.receipt, rating: 1 });
    const again = await refusal('reusing a receipt', () => client.registry!.submitFeedback({ receipt: analysis.receipt!, rating: 1 }));
    say(`Feedback backed by the uppercaser's signed receipt moved its reputation to ${reputation}; reusing the receipt: ${again}`);

    step('add a service while the agent runs');
    worker.services.register<{ text: string }, { words: number }>({
      name: 'count_words',
      description: 'Counts the words of a text',
      inputSchema: { type: 'object', properties: { text: { type: 'string', maxLength: 10_000 } }, required: ['text'], additionalProperties: false },
      outputSchema: { type: 'object', properties: { words: { type: 'integer' } }, required: ['words'] },
      price: 1,
      handler: ({ text }) => ({ words: text.split(/\s+/).filter(Boolean).length }),
    });
    // The router sends the agent's record again on its own; a searching peer sees the service within moments.
    const deadline = Date.now() + 5_000;
    let offered = await client.registry!.search({ capabilities: ['count_words'] });
    while (offered.total === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      offered = await client.registry!.search({ capabilities: ['count_words'] });
    }
    if (offered.total === 0) throw new Error('the registry never listed the service added at run time');
    const counted = await client.call<{ words: number }>({ capability: 'count_words', maxPrice: 2 }, 'count_words', { text: 'one two three' });
    say(`The uppercaser added "count_words" while running; the client found it by search and counted ${counted.words} words`);

    step('check the state on disk');
    const servedCount = await worker.state.getState<number>('served', 0);
    say(`The uppercaser journaled ${servedCount} served calls in its state directory`);

    step('an A2A client calls the uppercaser');
    {
      // The official A2A SDK's client; its fetch signs each JSON-RPC request (RFC 9421) with the client's key.
      const { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } = await import('@a2a-js/sdk/client');
      const { Role, verifyAgentCardSignature } = await import('@a2a-js/sdk');
      const { publicKeyFromDidKey } = await import('@sov/crypto');
      const signedFetch: typeof fetch = async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
        if (init?.method === 'POST' && typeof init.body === 'string') {
          headers['x-sov-receiver'] = worker.agent.id;
          Object.assign(headers, clientIdentity.signer.sign({ method: 'POST', url, body: Buffer.from(init.body), headers: { ...headers } }));
        }
        return fetch(url, { ...init, headers });
      };
      const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl: signedFetch })] }));
      const a2aClient = await factory.createFromUrl(worker.agent.url!);
      const card = await a2aClient.getAgentCard();
      await verifyAgentCardSignature((kid) => Promise.resolve(publicKeyFromDidKey(kid)))(card);
      const reply = await a2aClient.sendMessage({
        tenant: '',
        message: {
          messageId: `demo-${Date.now()}`, contextId: '', taskId: '', role: Role.ROLE_USER, extensions: [], referenceTaskIds: [],
          parts: [{ content: { $case: 'data', value: { text: 'hello from a2a' } }, metadata: undefined, filename: '', mediaType: 'application/json' }],
          metadata: { skill: 'uppercase' },
        },
        configuration: undefined,
        metadata: undefined,
      });
      const part = 'parts' in reply ? reply.parts.find((p) => p.content?.$case === 'data') : undefined;
      const value = part?.content?.$case === 'data' ? (part.content.value as { text?: unknown }) : undefined;
      if (value?.text !== 'HELLO FROM A2A') throw new Error(`the A2A call answered ${JSON.stringify(reply).slice(0, 200)}`);
      say(`The official A2A SDK client read the uppercaser's card (skills ${card.skills.map((k) => k.id).join(', ')}; its JWS verified) and called "uppercase" with a signed SendMessage: "${value.text}"`);
    }

    // ---- federation (issue #13): a second registry, a service only it knows, a cross-registry transaction ----
    await federationSteps({ step, say, short, logger: quiet, cleanup }, federated, registry, client, clientFed);
    // ---- end of federation ----

    step('shut everything down');
    for (const stop of cleanup.splice(0)) await stop();
    say('Agents stopped intake, drained, deregistered and closed; registry closed');
    console.log('\nDemo finished: every step passed.');
  } catch (e) {
    const err = toSovError(e);
    console.error(`\nDemo failed at step ${stepNo} (${current}): [${err.code}] ${err.message}`);
    for (const stop of cleanup) await stop().catch(() => undefined);
    process.exitCode = 1;
  }
}

void main();
