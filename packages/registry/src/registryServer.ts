import EventEmitter from 'eventemitter3';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  SovError,
  ValidationError,
  createLogger,
  isSovError,
  systemClock,
  toSovError,
  type AgentRecord,
  type AgentRegistration,
  type Clock,
  type FieldProblem,
  type Logger,
  type SearchQuery,
} from '@sov/core';
import { MemoryRegistryStore } from './memoryRegistryStore';
import type { RegistryStore } from './registryStore';

/** Something that happened in the registry. */
export interface RegistryEvent {
  type: 'peer_joined' | 'peer_left' | 'peer_updated';
  agentId: string;
  /** Why a peer left: it deregistered or its lease expired. */
  reason?: 'deregistered' | 'expired';
  at: string;
}

/** Options of a RegistryServer. */
export interface RegistryServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default a fresh MemoryRegistryStore */
  store?: RegistryStore;
  /** @default the system clock */
  clock?: Clock;
  /** Lease length when a registration names none, in seconds. @default 30 */
  defaultTtlSec?: number;
  /** Longest lease a registration may ask for, in seconds. @default 3600 */
  maxTtlSec?: number;
  /** How often expired leases are swept, in ms. @default 1000 */
  sweepIntervalMs?: number;
  /** Largest request body in bytes. @default 65536 */
  bodyLimit?: number;
  /** @default a JSON logger on stdout at 'info' */
  logger?: Logger;
}

const MAX_CAPABILITIES = 64;

function registrationSchema(maxTtl: number) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'name', 'endpoint', 'capabilities'],
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 256 },
      name: { type: 'string', minLength: 1, maxLength: 128 },
      endpoint: { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s]+$' },
      capabilities: {
        type: 'array',
        maxItems: MAX_CAPABILITIES,
        uniqueItems: true,
        items: { type: 'string', minLength: 1, maxLength: 128 },
      },
      services: {
        type: 'array',
        maxItems: 64,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            description: { type: 'string', maxLength: 1024 },
            price: { type: 'number', minimum: 0 },
            requiresStake: { type: 'boolean' },
            minStake: { type: 'number', minimum: 0 },
          },
        },
      },
      metadata: { type: 'object' },
      ttl: { type: 'integer', minimum: 1, maximum: maxTtl },
    },
  } as const;
}

const searchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    capability: { type: 'array', maxItems: MAX_CAPABILITIES, items: { type: 'string', minLength: 1, maxLength: 128 } },
    minReputation: { type: 'number', minimum: 0, maximum: 1 },
    maxPrice: { type: 'number', minimum: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
    cursor: { type: 'string', maxLength: 256 },
  },
} as const;

function problems(errors: ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).map((e) => {
    const path =
      e.keyword === 'required'
        ? `${e.instancePath}/${String(e.params.missingProperty)}`
        : e.keyword === 'additionalProperties'
          ? `${e.instancePath}/${String(e.params.additionalProperty)}`
          : e.instancePath || '/';
    const message =
      e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not allowed' : (e.message ?? 'is invalid');
    return { path, message };
  });
}

function send(reply: FastifyReply, error: SovError): FastifyReply {
  return reply.code(error.status).type('application/json').send(error.toWire());
}

/**
 * The registry server: agents register with a lease, renew it with
 * heartbeats, deregister, and find each other by capability. Leases that are
 * not renewed expire. Every input is validated; bad input gets 400 with a code
 * and changes nothing.
 *
 * @example
 * const registry = await RegistryServer.start({ port: 7000 });
 * console.log(registry.url);
 * await registry.close();
 */
export class RegistryServer {
  readonly store: RegistryStore;
  private readonly app: FastifyInstance;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly events = new EventEmitter<{ event: [RegistryEvent] }>();
  private readonly options: Required<Pick<RegistryServerOptions, 'host' | 'port' | 'defaultTtlSec' | 'maxTtlSec' | 'sweepIntervalMs'>>;
  private readonly validateRegistration: ValidateFunction;
  private readonly validateSearch: ValidateFunction;
  private sweepTimer: unknown;
  private address: string | undefined;
  private closed = false;

  constructor(options: RegistryServerOptions = {}) {
    this.options = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      defaultTtlSec: options.defaultTtlSec ?? 30,
      maxTtlSec: options.maxTtlSec ?? 3600,
      sweepIntervalMs: options.sweepIntervalMs ?? 1000,
    };
    this.store = options.store ?? new MemoryRegistryStore();
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ meta: { component: 'registry' } });
    const ajv = new Ajv({ allErrors: true });
    this.validateRegistration = ajv.compile(registrationSchema(this.options.maxTtlSec));
    this.validateSearch = ajv.compile(searchSchema);
    this.app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 65536, forceCloseConnections: true });
    this.routes(options.bodyLimit ?? 65536);
  }

  /** Creates a server and starts listening. */
  static async start(options: RegistryServerOptions = {}): Promise<RegistryServer> {
    const server = new RegistryServer(options);
    await server.listen();
    return server;
  }

  /** The base URL once listening. */
  get url(): string {
    if (!this.address) throw new SovError('LIFECYCLE', 'Registry is not listening yet');
    return this.address;
  }

  /** Subscribes to registry events; returns a function that unsubscribes. */
  onEvent(listener: (event: RegistryEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /** Binds the port and starts sweeping expired leases. */
  async listen(): Promise<string> {
    const address = await this.app.listen({ host: this.options.host, port: this.options.port });
    const u = new URL(address);
    if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = '127.0.0.1';
    this.address = u.toString().replace(/\/+$/, '');
    this.scheduleSweep();
    this.logger.info('registry listening', { url: this.address });
    return this.address;
  }

  /** Removes every lease that has ended; returns how many. Runs on its own every sweepIntervalMs. */
  async sweep(): Promise<number> {
    const gone = await this.store.expire(this.clock.now());
    for (const r of gone) {
      this.logger.info('lease expired', { agentId: r.id });
      this.emit({ type: 'peer_left', agentId: r.id, reason: 'expired' });
    }
    return gone.length;
  }

  /** Stops sweeping, closes every connection and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    await this.app.close();
    await this.store.close();
  }

  private emit(e: Omit<RegistryEvent, 'at'>): void {
    this.events.emit('event', { ...e, at: new Date(this.clock.now()).toISOString() });
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep()
        .catch((e: unknown) => this.logger.error('sweep failed', { error: toSovError(e).message }))
        .finally(() => this.scheduleSweep());
    }, this.options.sweepIntervalMs);
  }

  private parseBody(req: FastifyRequest): unknown {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (raw.length === 0) throw new SovError('INVALID_INPUT', 'Request body is empty; expected a JSON object');
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (cause) {
      throw new SovError('INVALID_JSON', `Request body is not valid JSON: ${(cause as Error).message}`);
    }
  }

  private live(record: AgentRecord | undefined): AgentRecord | undefined {
    return record && Date.parse(record.expiresAt) > this.clock.now() ? record : undefined;
  }

  private routes(bodyLimit: number): void {
    const app = this.app;
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
      if (isSovError(err)) return send(reply, err);
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return send(reply, new SovError('PAYLOAD_TOO_LARGE', `Request body is larger than ${bodyLimit} bytes`));
      }
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return send(reply, new SovError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json'));
      }
      if (err.statusCode && err.statusCode < 500) return send(reply, new SovError('INVALID_INPUT', err.message));
      this.logger.error('request failed', { error: err.message, stack: err.stack });
      return send(reply, new SovError('INTERNAL', 'Internal error'));
    });
    app.setNotFoundHandler((req, reply) =>
      send(reply, new SovError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`)),
    );

    app.get('/health', (_req, reply) => reply.send({ success: true, status: 'ok' }));
    app.get('/ready', async (_req, reply) => {
      try {
        const agents = await this.store.count();
        return { success: true, status: 'ready', agents };
      } catch (e) {
        return send(reply, new SovError('NOT_READY', `Registry store unavailable: ${toSovError(e).message}`));
      }
    });

    app.post('/v1/agents', async (req, reply) => {
      const body = this.parseBody(req);
      if (!this.validateRegistration(body)) {
        throw new ValidationError('registration', problems(this.validateRegistration.errors));
      }
      const reg = body as AgentRegistration;
      const now = this.clock.now();
      const ttl = reg.ttl ?? this.options.defaultTtlSec;
      const previous = this.live(await this.store.get(reg.id));
      const record: AgentRecord = {
        id: reg.id,
        name: reg.name,
        endpoint: reg.endpoint,
        capabilities: reg.capabilities,
        services: reg.services ?? [],
        metadata: reg.metadata ?? {},
        ttl,
        registeredAt: previous?.registeredAt ?? new Date(now).toISOString(),
        lastHeartbeat: new Date(now).toISOString(),
        expiresAt: new Date(now + ttl * 1000).toISOString(),
        reputation: previous?.reputation ?? 0.5,
      };
      await this.store.put(record);
      this.logger.info(previous ? 'agent re-registered' : 'agent registered', { agentId: reg.id, endpoint: reg.endpoint });
      this.emit({ type: previous ? 'peer_updated' : 'peer_joined', agentId: reg.id });
      return reply.code(previous ? 200 : 201).send({ success: true, agent: record, lease: { ttl, expiresAt: record.expiresAt } });
    });

    app.post<{ Params: { id: string } }>('/v1/agents/:id/heartbeat', async (req) => {
      const now = this.clock.now();
      const record = await this.store.get(req.params.id);
      if (!record) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
      if (Date.parse(record.expiresAt) <= now) {
        throw new SovError('LEASE_EXPIRED', `The lease of ${req.params.id} expired at ${record.expiresAt}; register again`);
      }
      const renewed: AgentRecord = {
        ...record,
        lastHeartbeat: new Date(now).toISOString(),
        expiresAt: new Date(now + record.ttl * 1000).toISOString(),
      };
      await this.store.put(renewed);
      return { success: true, lease: { ttl: renewed.ttl, expiresAt: renewed.expiresAt } };
    });

    app.delete<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
      const existed = await this.store.delete(req.params.id);
      if (!existed) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
      this.logger.info('agent deregistered', { agentId: req.params.id });
      this.emit({ type: 'peer_left', agentId: req.params.id, reason: 'deregistered' });
      return { success: true };
    });

    app.get<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
      const record = this.live(await this.store.get(req.params.id));
      if (!record) throw new SovError('NOT_FOUND', `No agent registered with id ${req.params.id}`);
      return { success: true, agent: record };
    });

    app.get('/v1/agents', async (req) => {
      const q = req.query as Record<string, string | string[] | undefined>;
      const query: Record<string, unknown> = {};
      const problemsFound: FieldProblem[] = [];
      for (const [key, value] of Object.entries(q)) {
        if (key === 'capability') {
          query.capability = Array.isArray(value) ? value : [value];
        } else if (key === 'minReputation' || key === 'maxPrice' || key === 'limit') {
          const v = Array.isArray(value) ? value[0] : value;
          const n = v !== undefined && v.trim() !== '' ? Number(v) : NaN;
          if (Number.isNaN(n)) problemsFound.push({ path: `/${key}`, message: `must be a number (got ${JSON.stringify(v)})` });
          else query[key] = n;
        } else {
          query[key] = Array.isArray(value) ? value[0] : value;
        }
      }
      if (problemsFound.length) throw new ValidationError('search', problemsFound);
      if (!this.validateSearch(query)) throw new ValidationError('search', problems(this.validateSearch.errors));
      const search: SearchQuery & { limit: number } = { limit: (query.limit as number | undefined) ?? 50 };
      if (query.capability) search.capabilities = query.capability as string[];
      if (query.minReputation !== undefined) search.minReputation = query.minReputation as number;
      if (query.maxPrice !== undefined) search.maxPrice = query.maxPrice as number;
      if (query.cursor !== undefined) search.cursor = query.cursor as string;
      const page = await this.store.search(search, this.clock.now());
      return { success: true, ...page };
    });
  }
}
