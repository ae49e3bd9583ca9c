import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRegistryClient, createLogger, type AgentRecord, type Logger, type Signer } from '@sov/core';
import { RequestVerifier, verifyReceipt } from '@sov/crypto';
import { EmbeddedRegistryStore, RegistryServer, type RegistryServerOptions } from '@sov/registry';

/** Options of TestRegistry. */
export interface TestRegistryOptions extends Omit<RegistryServerOptions, 'store' | 'port' | 'host'> {
  /** Logs to stdout when true. @default false (silent) */
  verbose?: boolean;
}

/**
 * The real registry server on an ephemeral loopback port, with a fresh
 * embedded (journal) store in a temporary directory, started and stopped by
 * a test. Signatures are checked as in production unless `insecure` is set.
 *
 * @example
 * const registry = await TestRegistry.start({ operatorToken: 'op' });
 * const agent = new Agent({ name: 'a', registryUrl: registry.url, identity: Identity.generate() });
 * // ...
 * await registry.stop();
 */
export class TestRegistry {
  /** The operator token stake changes need. */
  readonly operatorToken: string;
  private server: RegistryServer;
  private readonly dir: string;
  private readonly options: TestRegistryOptions;
  private readonly logger: Logger;

  private constructor(server: RegistryServer, dir: string, options: TestRegistryOptions, logger: Logger, operatorToken: string) {
    this.server = server;
    this.dir = dir;
    this.options = options;
    this.logger = logger;
    this.operatorToken = operatorToken;
  }

  /** Starts a registry with a fresh store. */
  static async start(options: TestRegistryOptions = {}): Promise<TestRegistry> {
    const dir = await mkdtemp(join(tmpdir(), 'sov-test-registry-'));
    const logger = createLogger({ silent: !options.verbose, meta: { component: 'test-registry' } });
    const operatorToken = options.operatorToken ?? 'test-operator-token';
    const server = await TestRegistry.serve(dir, 0, { ...options, operatorToken }, logger);
    return new TestRegistry(server, dir, options, logger, operatorToken);
  }

  private static serve(dir: string, port: number, options: TestRegistryOptions, logger: Logger): Promise<RegistryServer> {
    const { verbose: _verbose, ...rest } = options;
    return RegistryServer.start({
      rateLimit: false,
      ...(options.insecure ? {} : { verifier: new RequestVerifier(), receiptVerifier: verifyReceipt }),
      ...rest,
      port,
      host: '127.0.0.1',
      logger,
      store: new EmbeddedRegistryStore({ dir, logger }),
    });
  }

  /** The registry's base URL. */
  get url(): string {
    return this.server.url;
  }

  /** The running server (for its store and event hooks). */
  get registry(): RegistryServer {
    return this.server;
  }

  /** A client for this registry, signing with `signer` when given. */
  client(signer?: Signer): HttpRegistryClient {
    return new HttpRegistryClient({ baseUrl: this.url, operatorToken: this.operatorToken, ...(signer ? { signer } : {}) });
  }

  /** Every live agent's record, in search order (reputation, then id), read page by page through the public API. */
  async listAgents(): Promise<AgentRecord[]> {
    const client = this.client();
    const out: AgentRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.search({ limit: 500, ...(cursor ? { cursor } : {}) });
      out.push(...page.agents);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  /** Credits an agent's stake through the operator API. */
  async creditStake(agentId: string, amount: number): Promise<number> {
    return (await this.client().creditStake(agentId, amount)).stake;
  }

  /** Stops the server and starts it again on the same port with the same data, as after a crash or a deploy. */
  async restart(): Promise<void> {
    const port = Number(new URL(this.server.url).port);
    await this.server.close();
    this.server = await TestRegistry.serve(this.dir, port, { ...this.options, operatorToken: this.operatorToken }, this.logger);
  }

  /** Stops the server and deletes its data. Safe to call twice. */
  async stop(): Promise<void> {
    await this.server.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
