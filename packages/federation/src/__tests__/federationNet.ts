import { Agent, HttpRegistryClient, createLogger, type FederatedSearchPage, type Logger } from '@sov/core';
import { Identity, RequestVerifier, verifyReceipt } from '@sov/crypto';
import { RegistryServer, type FederationMirrorOptions, type FederationPeer } from '@sov/registry';
import { serviceRouter } from '@sov/services';
import { freePort, waitFor } from '@sov/testing';
import { federation, type FederationApi } from '../index';

export const quiet: Logger = createLogger({ silent: true });

export interface NetRegistry {
  name: string;
  identity: Identity;
  url: string;
  server: RegistryServer;
}

/** Waits for a condition, checking every 20 ms, failing after `ms` (@sov/testing's waitFor). */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  await waitFor(what, check, { timeoutMs: ms, intervalMs: 20 });
}

/**
 * Real registries on loopback ports, federated along `edges` (each edge
 * configured on both sides unless listed in `oneWay`), peering awaited.
 */
export async function federationNet(
  names: string[],
  edges: Array<[string, string]>,
  options: {
    maxHops?: number;
    extraPeers?: Record<string, FederationPeer[]>;
    oneWay?: Array<[string, string]>;
    mirror?: FederationMirrorOptions | false;
  } = {},
): Promise<{ reg: Record<string, NetRegistry>; close(): Promise<void> }> {
  const ports = await Promise.all(names.map(() => freePort()));
  const ids = names.map(() => Identity.generate());
  const at = (n: string) => names.indexOf(n);
  const peersOf = (n: string): FederationPeer[] => {
    const out: FederationPeer[] = [];
    for (const [a, b] of edges) {
      if (a === n) out.push({ url: `http://127.0.0.1:${ports[at(b)]}`, id: ids[at(b)]!.id });
      if (b === n) out.push({ url: `http://127.0.0.1:${ports[at(a)]}`, id: ids[at(a)]!.id });
    }
    for (const [a, b] of options.oneWay ?? []) if (a === n) out.push({ url: `http://127.0.0.1:${ports[at(b)]}`, id: ids[at(b)]!.id });
    return [...out, ...(options.extraPeers?.[n] ?? [])];
  };
  const reg: Record<string, NetRegistry> = {};
  await Promise.all(
    names.map(async (name, i) => {
      const server = await RegistryServer.start({
        port: ports[i]!,
        verifier: new RequestVerifier(),
        receiptVerifier: verifyReceipt,
        logger: quiet,
        dashboard: false,
        rateLimit: false,
        federation: {
          identity: ids[i]!,
          peers: peersOf(name),
          retryMs: 50,
          ...(options.maxHops ? { maxHops: options.maxHops } : {}),
          ...(options.mirror !== undefined ? { mirror: options.mirror } : {}),
        },
      });
      reg[name] = { name, identity: ids[i]!, url: server.url, server };
    }),
  );
  // Every mutual edge active on both sides.
  await until('peering', async () => {
    for (const [a, b] of edges) {
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const body = (await (await fetch(`${reg[x]!.url}/v1/federation/peers`)).json()) as { peers: Array<{ id: string; status: string }> };
        if (body.peers.find((p) => p.id === reg[y]!.identity.id)?.status !== 'active') return false;
      }
    }
    return true;
  });
  return { reg, close: async () => void (await Promise.all(Object.values(reg).map((r) => r.server.close()))) };
}

/** A real agent registered at `registryUrl` that serves `service` for `price` and says who served. */
export async function serviceAgent(
  name: string,
  registryUrl: string,
  service: string,
  options: { price?: number; identity?: Identity; handler?: (params: unknown) => unknown } = {},
): Promise<Agent> {
  const agent = new Agent({ name, registryUrl, identity: options.identity ?? Identity.generate(), logger: quiet, capabilities: [service], heartbeatIntervalMs: 60_000 });
  const services = agent.use(serviceRouter());
  services.register({
    name: service,
    ...(options.price !== undefined ? { price: options.price } : {}),
    handler: (params: unknown) => Promise.resolve(options.handler ? options.handler(params) : { servedBy: name, params }),
  });
  await agent.start();
  return agent;
}

/** A started agent at `registryUrl` with `federation()`: the origin of cross-registry transactions. */
export async function originAgent(registryUrl: string, identity: Identity = Identity.generate()): Promise<{ agent: Agent; fed: FederationApi }> {
  const agent = new Agent({ name: 'origin', registryUrl, identity, logger: quiet });
  const fed = agent.use(federation());
  await agent.start();
  return { agent, fed };
}

/** Registers a listing (no live agent behind it) at a registry, as `who` (a new identity by default); returns its id and client, signed as it. */
export async function listing(url: string, name: string, capability: string, price = 5, who: Identity = Identity.generate()) {
  const client = new HttpRegistryClient({ baseUrl: url, signer: who.signer });
  await client.register({ id: who.id, name, endpoint: `http://127.0.0.1:9/${name}`, capabilities: [capability], services: [{ name: capability, price }], ttl: 600 });
  return { id: who.id, client };
}

/** What `GET /v1/federation/search` answered: its status and body (the page, or the failure's error). */
export type FederatedSearchBody = FederatedSearchPage & { status: number; success: boolean; error?: { code: string; message: string } };

/** GET /v1/federation/search on a registry, with its status. */
export async function federatedSearch(url: string, query = ''): Promise<FederatedSearchBody> {
  const res = await fetch(`${url}/v1/federation/search${query ? `?${query}` : ''}`);
  return { status: res.status, ...((await res.json()) as Omit<FederatedSearchBody, 'status'>) };
}
