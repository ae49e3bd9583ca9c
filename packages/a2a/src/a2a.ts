import { SovError, type AgentContext, type Capability, type Logger } from '@sov/core';
import { A2aClient, AGENT_CARD_PATH, type A2aClientOptions } from './a2aClient';
import type { A2aAgentCard, A2aAgentSkill } from './a2aWire';
import { canonicalCard, signCard } from './canonicalCard';
import { A2aRpcServer } from './internal/a2aRpcServer';
import { TaskBook, type A2aProgress } from './internal/taskBook';
import { SOV_EXTENSION_URI, type A2aJsonSchema, type SovCardExtension, type SovSkillTerms } from './sovExtension';

/** A service as the card describes it: a ServiceRouter's catalog entry fits. */
export interface A2aServiceEntry {
  name: string;
  description?: string;
  inputSchema?: A2aJsonSchema;
  outputSchema?: A2aJsonSchema;
  price?: number;
  requiresStake?: boolean;
  minStake?: number;
}

/** Where the card's skills come from: a ServiceRouter (`agent.use(serviceRouter())`) fits. */
export interface A2aServiceCatalog {
  getServiceCatalog(): A2aServiceEntry[];
  /** The services' names, when cheaper than the catalog (a ServiceRouter has them). */
  readonly services?: readonly string[];
}

/** Options of the a2a capability. */
export interface A2aOptions {
  /** The services to publish as skills and serve over A2A (the agent's ServiceRouter). */
  services: A2aServiceCatalog;
  /** Path of the JSON-RPC route. @default '/a2a' */
  path?: string;
  /** The card's description. @default 'Sovereign agent <name>' */
  description?: string;
  /** The card's version (of the agent, not of A2A). @default '1.0.0' */
  version?: string;
  /** The card's provider. @default none */
  provider?: { organization: string; url: string };
  /** Tags of every skill, besides the service's name. @default [] */
  tags?: string[];
  /**
   * Sign the card (a JWS, EdDSA with the agent's Ed25519 key, `kid` its
   * did) when the agent's identity can sign bytes. @default true
   */
  signCard?: boolean;
  /**
   * Services that always run as tasks (submitted, working, completed) and
   * may report progress with `api.progress(context.requestId, ...)`. Any
   * service runs as a task when the client streams (SendStreamingMessage);
   * otherwise the others answer with a message. @default []
   */
  taskServices?: string[];
  /** Most tasks kept at once (running and finished). @default 1000 */
  maxTasks?: number;
  /** How long a finished task can still be read with GetTask, in ms. @default 600000 */
  taskRetentionMs?: number;
  /** Options of the client that agent.call uses for card URLs (its signer is the agent's). */
  client?: Omit<A2aClientOptions, 'signer'>;
}

/** What `agent.use(a2a(...))` returns. */
export interface A2aApi {
  /** The agent's card, as served (after start). */
  card(): A2aAgentCard;
  /** The URL of the card (after start). */
  readonly cardUrl: string | undefined;
  /**
   * Reports progress of the A2A task whose handler sees `requestId`
   * (`context.requestId` in a service handler): streamed to its clients and
   * kept in its status. False when that request is not an A2A task.
   */
  progress(requestId: string, update: A2aProgress): boolean;
  /** The client agent.call uses for card URLs; call it directly to stream a task. */
  readonly client: A2aClient;
}

const DEFAULT_MODES = ['application/json', 'text/plain'];

function skillOf(entry: A2aServiceEntry, tags: string[]): A2aAgentSkill {
  return {
    id: entry.name,
    name: entry.name,
    description: entry.description || `Service ${entry.name}`,
    tags: [...new Set([entry.name, ...tags])],
    inputModes: ['application/json'],
    outputModes: ['application/json'],
  };
}

function termsOf(entry: A2aServiceEntry, task: boolean): SovSkillTerms {
  return {
    ...(entry.price === undefined ? {} : { price: entry.price }),
    ...(entry.requiresStake === undefined ? {} : { requiresStake: entry.requiresStake }),
    ...(entry.minStake === undefined ? {} : { minStake: entry.minStake }),
    ...(entry.inputSchema === undefined ? {} : { inputSchema: entry.inputSchema }),
    ...(entry.outputSchema === undefined ? {} : { outputSchema: entry.outputSchema }),
    ...(task ? { task: true } : {}),
  };
}

/**
 * Makes the agent an A2A agent and an A2A client. It serves
 * `GET /.well-known/agent-card.json` (one skill per service; price, stake and
 * JSON Schemas in the Sovereign extension; the agent's did and endpoint;
 * JWS-signed with the agent's key) and the JSON-RPC route (`POST /a2a`:
 * SendMessage, SendStreamingMessage, GetTask, CancelTask, SubscribeToTask),
 * which calls the agent's services through its request handler: schemas,
 * stakes, timeouts and metrics apply as on `/rpc`. A call signed per RFC 9421
 * is verified and its caller known (stake gating); an unsigned one is
 * anonymous, under the agent's `allowAnonymous` policy. And `agent.call` to a
 * card URL (`http://host/.well-known/agent-card.json`) calls that A2A agent,
 * through the agent's peer-call wrappers (timeouts, breakers, retries).
 *
 * @example
 * const agent = new Agent({ name: 'text', identity, allowAnonymous: true });
 * const services = agent.use(serviceRouter());
 * services.register({ name: 'uppercase', inputSchema, handler: ({ text }) => ({ text: text.toUpperCase() }) });
 * agent.use(a2a({ services }));
 * await agent.start(); // the card is at `${agent.url}/.well-known/agent-card.json`
 */
export function a2a(options: A2aOptions): Capability<A2aApi> {
  if (!options || typeof options.services?.getServiceCatalog !== 'function') {
    throw new SovError('INVALID_CONFIG', 'a2a needs options.services: the ServiceRouter whose services it publishes and serves');
  }
  const path = options.path ?? '/a2a';
  if (!/^\/[\w./-]*$/.test(path)) throw new SovError('INVALID_CONFIG', `a2a path must be a URL path, got ${JSON.stringify(path)}`);
  const maxTasks = options.maxTasks ?? 1000;
  const retention = options.taskRetentionMs ?? 600_000;
  if (!(Number.isInteger(maxTasks) && maxTasks >= 1)) throw new SovError('INVALID_CONFIG', `a2a maxTasks must be an integer >= 1, got ${maxTasks}`);
  if (!(Number.isFinite(retention) && retention >= 0)) throw new SovError('INVALID_CONFIG', `a2a taskRetentionMs must be a finite number >= 0, got ${retention}`);
  const taskServices = new Set(options.taskServices ?? []);
  let context: AgentContext | undefined;
  let server: A2aRpcServer | undefined;
  let client: A2aClient | undefined;
  let book: TaskBook | undefined;
  let signed: { canonical: string; card: A2aAgentCard } | undefined;
  let stopWatching: (() => void) | undefined;
  let stopTimer: unknown;

  const buildCard = (): A2aAgentCard => {
    const ctx = context;
    const url = ctx?.agent.url;
    if (!ctx || !url) throw new SovError('LIFECYCLE', 'The agent card exists once the agent listens');
    const catalog = options.services.getServiceCatalog();
    const services: Record<string, SovSkillTerms> = {};
    for (const entry of catalog) services[entry.name] = termsOf(entry, taskServices.has(entry.name));
    const extension: SovCardExtension = {
      ...(ctx.identity ? { did: ctx.identity.id } : {}),
      endpoint: url,
      skillMetadataKey: 'skill',
      services,
    };
    const card: A2aAgentCard = {
      name: ctx.config.name,
      description: options.description ?? `Sovereign agent ${ctx.config.name}`,
      version: options.version ?? '1.0.0',
      supportedInterfaces: [{ url: `${url}${path}`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
      ...(options.provider ? { provider: options.provider } : {}),
      capabilities: {
        streaming: true,
        pushNotifications: false,
        extensions: [
          {
            uri: SOV_EXTENSION_URI,
            description: 'Sovereign SDK agent: did, endpoint and per-skill price, stake and JSON Schemas; name the skill in message.metadata.skill and send its params as a data part',
            params: extension as unknown as Record<string, unknown>,
          },
        ],
      },
      defaultInputModes: DEFAULT_MODES,
      defaultOutputModes: DEFAULT_MODES,
      skills: catalog.map((e) => skillOf(e, options.tags ?? [])),
    };
    const identity = ctx.identity;
    if (options.signCard === false || !identity?.sign) return card;
    // Signing costs a signature: done again only when the card changed.
    const canonical = canonicalCard(card);
    if (signed?.canonical !== canonical) {
      const sign = identity.sign.bind(identity);
      signed = { canonical, card: { ...card, signatures: [signCard(card, identity.id, sign)] } };
    }
    return signed.card;
  };

  const api: A2aApi = {
    card: buildCard,
    get cardUrl() {
      const url = context?.agent.url;
      return url ? `${url}${AGENT_CARD_PATH}` : undefined;
    },
    progress: (requestId, update) => server?.progress(requestId, update) ?? false,
    get client(): A2aClient {
      if (!client) throw new SovError('LIFECYCLE', 'The A2A client exists once the agent is initialized');
      return client;
    },
  };

  return {
    name: 'a2a',
    api,
    initialize(ctx) {
      context = ctx;
      book = new TaskBook(maxTasks, retention, ctx.clock);
      const logger = (): Logger => ctx.logger;
      server = new A2aRpcServer({
        handle: (request, rc) => ctx.handleRequest(request, rc),
        services: () => [...(options.services.services ?? options.services.getServiceCatalog().map((e) => e.name))],
        taskServices,
        book,
        logger,
      });
      client = new A2aClient({
        timeoutMs: ctx.config.requestTimeoutMs * 2,
        ...options.client,
        ...(ctx.identity ? { signer: ctx.identity.signer } : {}),
        clock: options.client?.clock ?? ctx.clock,
      });
      const rpc = server;
      ctx.endpoint.addRoute({ method: 'GET', url: AGENT_CARD_PATH, signed: false, handler: () => ({ body: buildCard() }) });
      ctx.endpoint.addRoute({ method: 'POST', url: path, handler: (request) => rpc.serve(request) });
      const a2aClient = client;
      ctx.addPeerTransport({
        handles: (endpoint) => endpoint.endsWith(AGENT_CARD_PATH),
        call: async (call) => ({
          success: true,
          result: await a2aClient.call(call.endpoint, typeof call.request.service === 'string' ? call.request.service : '', call.request.params, {
            ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
            ...(call.signal ? { signal: call.signal } : {}),
          }),
        }),
      });
      ctx.contributeRegistration(() => ({ metadata: { a2a: { card: api.cardUrl } } }));
      // Streams and blocking calls of running tasks are requests in flight: the drain waits for them. Tasks get
      // half the shutdown budget to finish, then they are aborted, so their clients hear the end before connections close.
      const tasks = book;
      stopWatching = ctx.agent.onStateChange((state) => {
        if (state !== 'stopping' || tasks.running === 0) return;
        stopTimer = ctx.clock.setTimeout(() => tasks.abortAll(new SovError('SHUTTING_DOWN', 'The agent is shutting down')), ctx.config.shutdownTimeoutMs / 2);
      });
    },
    async shutdown(ctx) {
      stopWatching?.();
      if (stopTimer !== undefined) ctx.clock.clearTimeout(stopTimer);
      book?.abortAll(new SovError('SHUTTING_DOWN', 'The agent is shutting down'));
      await client?.close();
    },
  };
}
