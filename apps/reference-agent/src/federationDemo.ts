/**
 * The demo's federation steps (issue #13): a second registry federated with
 * the first, a service only the second knows found and called by the
 * client, and a cross-registry transaction whose route receipt is checked
 * hop by hop. demo.ts calls these; its own steps stay as they are.
 */
import { Agent, type Logger } from '@sov/core';
import { Identity, RequestVerifier, verifyAnswerHops, verifyReceipt, verifyRequestHops } from '@sov/crypto';
import { federation, verifyRouteReceipt, type FederationApi } from '@sov/federation';
import { RegistryServer, type RegistryFederationOptions } from '@sov/registry';
import { serviceRouter } from '@sov/services';
import { freePort } from '@sov/testing';

/** What the demo decides before the first registry starts, so each registry can name the other as its peer. */
export interface FederationPlan {
  firstIdentity: Identity;
  secondIdentity: Identity;
  secondUrl: string;
  /** The first registry's federation options (its peer: the second). */
  first(): RegistryFederationOptions;
  /** The client's federation capability: the second registry besides its own. */
  clientFederation(): ReturnType<typeof federation>;
}

/** Picks the second registry's key and port. */
export async function planFederation(): Promise<FederationPlan> {
  const firstIdentity = Identity.generate();
  const secondIdentity = Identity.generate();
  const secondUrl = `http://127.0.0.1:${await freePort()}`;
  return {
    firstIdentity,
    secondIdentity,
    secondUrl,
    first: () => ({ identity: firstIdentity, peers: [{ url: secondUrl, id: secondIdentity.id }], retryMs: 200 }),
    clientFederation: () => federation({ registries: [secondUrl], searchTimeoutMs: 1000, connectTimeoutMs: 200 }),
  };
}

interface DemoIo {
  step: (what: string) => void;
  say: (line: string) => void;
  short: (id: string) => string;
  logger: Logger;
  cleanup: Array<() => Promise<void>>;
}

/** Runs the federation steps against the first registry, the client and its federation capability. */
export async function federationSteps(
  io: DemoIo,
  plan: FederationPlan,
  first: RegistryServer,
  client: Agent,
  clientFed: FederationApi,
): Promise<void> {
  const { step, say, short } = io;

  step('start a second registry, federated with the first');
  const second = await RegistryServer.start({
    port: Number(new URL(plan.secondUrl).port),
    logger: io.logger,
    verifier: new RequestVerifier(),
    receiptVerifier: verifyReceipt,
    federation: { identity: plan.secondIdentity, peers: [{ url: first.url, id: plan.firstIdentity.id }], retryMs: 200 },
  });
  io.cleanup.unshift(() => second.close());
  const deadline = Date.now() + 5000;
  let status = '';
  while (Date.now() < deadline) {
    const body = (await (await fetch(`${first.url}/v1/federation/peers`)).json()) as { peers: Array<{ status: string }> };
    status = body.peers[0]?.status ?? '';
    if (status === 'active') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (status !== 'active') throw new Error(`the registries did not peer (status ${status})`);
  const known = (await (await fetch(`${second.url}/.well-known/sov-registry`)).json()) as { registry: { id: string } };
  say(`Second registry at ${second.url}, id ${short(known.registry.id)} (/.well-known/sov-registry)`);
  say(`The registries peered: each sent its signed peer list, signed for the id the other expects; status ${status}`);

  step('find a service only the second registry knows');
  const translator = new Agent({ name: 'translator', registryUrl: second.url, identity: Identity.generate(), logger: io.logger, capabilities: ['text.translate'] });
  translator.use(serviceRouter()).register<{ text: string }, { text: string }>({
    name: 'translate',
    price: 4,
    handler: ({ text }) => ({ text: text === 'hallo welt' ? 'hello world' : `[${text}]` }),
  });
  await translator.start();
  io.cleanup.unshift(() => translator.shutdown());
  const own = await client.registry!.search({ capabilities: ['text.translate'] });
  const best = await clientFed.findService('text.translate', { maxPrice: 10, service: 'translate' });
  if (own.total !== 0 || best?.agent.id !== translator.id) throw new Error('the federated search did not find the translator on the second registry');
  say(`The client's own registry knows ${own.total} translator; the federated search of both found "${best.agent.name}" at ${best.registry} (score ${best.score.toFixed(2)})`);
  const called = await client.call<{ text: string }>({ capability: 'text.translate', federated: true }, 'translate', { text: 'hallo welt' });
  say(`agent.call with a federated query reached it: "hallo welt" -> "${called.text}"`);

  step('a cross-registry transaction with its route receipt');
  const path = await clientFed.path(plan.secondIdentity.id);
  say(`Path from the client's registry: ${path.map((h) => short(h.id)).join(' -> ')} (${path.length - 1} hop)`);
  const { result, receipt } = await clientFed.executeCrossRegistryTransaction<{ text: string }>(translator.id, second.url, {
    service: 'translate',
    params: { text: 'hallo welt' },
  });
  say(`The client signed request ${receipt.request.id} (origin ${short(receipt.request.origin)}); the translator answered "${result.text}"`);
  receipt.hops.forEach((hop, i) => {
    const ok = verifyRequestHops(receipt.request, receipt.hops.slice(0, i + 1)).valid;
    say(`going, hop ${i}: ${short(hop.registry)} verified the origin and the hops before it and signed: ${ok ? 'checks' : 'BROKEN'}`);
  });
  for (let i = receipt.returns.length - 1; i >= 0; i--) {
    const ok = verifyAnswerHops(receipt.request, receipt.hops, receipt.answer, receipt.returns.slice(i)).valid;
    say(`returning, hop ${i}: ${short(receipt.returns[i]!.registry)} countersigned the answer: ${ok ? 'checks' : 'BROKEN'}`);
  }
  const verdict = verifyRouteReceipt(receipt);
  const forged = verifyRouteReceipt({ ...receipt, answer: { ...receipt.answer, outcome: { success: true, result: { text: 'forged' } } } });
  if (!verdict.valid || forged.valid) throw new Error('the route receipt did not check as it should');
  say(`Route receipt verified from the did:keys alone: valid; the same receipt with the answer changed: refused (${forged.reason})`);
}
