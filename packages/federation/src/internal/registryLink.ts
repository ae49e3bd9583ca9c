import { SearchClient } from './searchClient';
import { HttpRegistryClient, toSovError, type Clock, type Logger, type RegistryEvent, type RegistryEventStream } from '@sov/core';

/** How the agent's connection to one registry stands. */
export interface RegistryLinkStatus {
  url: string;
  /** Whether the registry answers (its event stream is connected or its last search answered). */
  up: boolean;
  primary: boolean;
  /** The last failure, while down. */
  error?: { code: string; message: string };
}

/**
 * One registry the federation searches: a client with its own timeout and an
 * event stream that tells when agents leave. The stream reconnects on its
 * own, so a registry that was down comes back when it answers.
 */
export class RegistryLink {
  readonly url: string;
  readonly primary: boolean;
  /** For its event stream. */
  readonly client: HttpRegistryClient;
  /** For searches: the lighter client every federated search uses once per registry. */
  readonly searches: SearchClient;
  private stream: RegistryEventStream | undefined;
  private upNow = false;
  private lastError: { code: string; message: string } | undefined;

  constructor(url: string, primary: boolean, timeoutMs: number, clock: Clock) {
    this.url = url.replace(/\/+$/, '');
    this.primary = primary;
    this.client = new HttpRegistryClient({ baseUrl: this.url, timeoutMs });
    this.searches = new SearchClient(this.url, timeoutMs, clock);
  }

  get up(): boolean {
    return this.upNow;
  }

  status(): RegistryLinkStatus {
    return { url: this.url, up: this.upNow, primary: this.primary, ...(!this.upNow && this.lastError ? { error: this.lastError } : {}) };
  }

  /**
   * Subscribes to the registry's peer_left events; resolves when the stream
   * connected or `waitMs` passed (a registry that is down is never fatal).
   */
  connect(onLeft: (event: RegistryEvent) => void, logger: Logger, waitMs: number, clock: Clock): Promise<void> {
    const stream = this.client.subscribe({ types: ['peer_left'], maxReconnectDelayMs: 2000 });
    this.stream = stream;
    stream.onEvent(onLeft);
    let timer: unknown;
    return new Promise<void>((resolve) => {
      const done = () => {
        clock.clearTimeout(timer);
        resolve();
      };
      stream.onConnect(() => {
        if (!this.upNow) logger.info('federation registry connected', { registry: this.url });
        this.markUp();
        done();
      });
      stream.onError((e) => {
        if (this.upNow || !this.lastError) logger.warn('federation registry unreachable; retrying', { registry: this.url, code: e.code, error: e.message });
        this.markDown(e);
      });
      timer = clock.setTimeout(done, waitMs);
    });
  }

  markUp(): void {
    this.upNow = true;
    this.lastError = undefined;
  }

  markDown(e: unknown): void {
    const err = toSovError(e);
    this.upNow = false;
    this.lastError = { code: err.code, message: err.message };
  }

  async close(): Promise<void> {
    await this.stream?.close();
    await this.searches.close();
  }
}
