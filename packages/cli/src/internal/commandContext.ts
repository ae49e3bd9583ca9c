import { HttpRegistryClient, isSovError } from '@sov/core';
import { Output, type OutputStream } from './output';
import { RegistryUnreachableError, UsageError } from './cliErrors';

/** Where `sov` reads and writes: the process in the bin, buffers in a test. */
export interface SovIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** Ends a long-running command (`events --follow`) cleanly; the bin aborts it on SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/** The options every command takes. */
export interface GlobalOptions {
  registry?: string;
  json?: boolean;
  timeout?: number;
}

/** The default registry when neither --registry nor SOV_REGISTRY_URL names one. */
export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:7000';

/** What a command's action gets: its output, the registry client, the environment. */
export class CommandContext {
  readonly env: Record<string, string | undefined>;
  readonly out: Output;
  readonly registryUrl: string;
  readonly timeoutMs: number;

  constructor(
    readonly io: SovIo,
    options: GlobalOptions,
  ) {
    this.env = io.env ?? process.env;
    this.out = new Output(io.stdout, this.env, options.json === true);
    const url = options.registry ?? this.env.SOV_REGISTRY_URL ?? DEFAULT_REGISTRY_URL;
    if (!/^https?:\/\/[^\s/]+/.test(url) || !URL.canParse(url)) {
      throw new UsageError(`--registry (or SOV_REGISTRY_URL) must be an http(s) URL (got ${JSON.stringify(url)})`);
    }
    this.registryUrl = url.replace(/\/+$/, '');
    this.timeoutMs = options.timeout ?? 5000;
  }

  /** A registry client; `operatorToken` only for stake changes. */
  registry(operatorToken?: string): HttpRegistryClient {
    return new HttpRegistryClient({ baseUrl: this.registryUrl, timeoutMs: this.timeoutMs, ...(operatorToken ? { operatorToken } : {}) });
  }

  /** Runs a registry call; a registry that does not answer becomes RegistryUnreachableError (exit 3). */
  async reach<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw this.unreachable(e) ?? e;
    }
  }

  /** The exit-3 error for a failure that means the registry did not answer, else undefined. */
  unreachable(e: unknown): RegistryUnreachableError | undefined {
    if (isSovError(e) && (e.code === 'NETWORK_ERROR' || e.code === 'TIMEOUT')) return new RegistryUnreachableError(this.registryUrl, e);
    return undefined;
  }

  /** A warning or progress line on stderr (never part of the output a program reads). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}
