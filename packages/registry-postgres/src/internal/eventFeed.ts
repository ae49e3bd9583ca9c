import pg from 'pg';
import type { Clock, Logger, RegistryEvent } from '@sov/core';

/** What the feed needs from its store. */
export interface EventFeedSource {
  /** Events with an id above `afterId`, oldest first, at most `limit`. */
  after(afterId: number, limit: number): Promise<RegistryEvent[]>;
  /** The newest event id committed. */
  latest(): Promise<number>;
}

export interface EventFeedOptions {
  source: EventFeedSource;
  /** Connection settings for the LISTEN connection (one per feed, outside the pool). */
  connection: pg.ClientConfig;
  /** The NOTIFY channel appends signal on; undefined to poll only. */
  channel: string | undefined;
  pollIntervalMs: number;
  clock: Clock;
  logger: Logger;
}

const BATCH = 500;

/**
 * Every event of the shared log, each once and in id order, to this
 * process's listeners. A LISTEN connection hears each append as it commits
 * and the feed reads the log after the last id it delivered; a poll of the
 * log every pollIntervalMs covers notifications missed while that connection
 * was down (it reconnects on its own). Since event ids commit in order,
 * reading "after the last delivered id" never skips one.
 */
export class EventFeed {
  private readonly listeners = new Set<(event: RegistryEvent) => void>();
  private cursor = 0;
  private started = false;
  private stopped = false;
  private pulling: Promise<void> | undefined;
  private again = false;
  private client: pg.Client | undefined;
  private pollTimer: unknown;
  private reconnectTimer: unknown;
  private reconnectDelayMs = 100;

  constructor(private readonly options: EventFeedOptions) {}

  /** Starts at the newest committed event: listeners get what is appended from now on. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.cursor = await this.options.source.latest();
    await this.listen();
    this.schedulePoll();
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Reads and delivers what the log holds past the cursor now. */
  pull(): Promise<void> {
    if (this.pulling) {
      this.again = true;
      return this.pulling;
    }
    this.pulling = (async () => {
      try {
        do {
          this.again = false;
          let batch: RegistryEvent[];
          do {
            batch = await this.options.source.after(this.cursor, BATCH);
            for (const event of batch) {
              this.cursor = Number(event.id);
              for (const l of this.listeners) {
                try {
                  l(event);
                } catch (e) {
                  this.options.logger.error('registry event listener failed', { error: (e as Error).message });
                }
              }
            }
          } while (batch.length === BATCH && !this.stopped);
        } while (this.again && !this.stopped);
      } catch (e) {
        // The next notification or poll tries again from the same cursor: nothing is skipped.
        this.options.logger.warn('reading the registry event log failed', { error: (e as Error).message });
      } finally {
        this.pulling = undefined;
      }
    })();
    return this.pulling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    if (this.pollTimer !== undefined) this.options.clock.clearTimeout(this.pollTimer);
    if (this.reconnectTimer !== undefined) this.options.clock.clearTimeout(this.reconnectTimer);
    await this.pulling;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.stopped || this.options.channel === undefined) return;
    const client = new pg.Client(this.options.connection);
    client.on('notification', () => void this.pull());
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
    } catch (e) {
      this.lost(client, e as Error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelayMs = 100;
    // Whatever was appended while no connection listened.
    void this.pull();
  }

  private lost(client: pg.Client, e: Error): void {
    if (this.stopped) return;
    if (this.client === client) this.client = undefined;
    else if (this.client !== undefined) return;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.reconnectTimer !== undefined) return;
    this.options.logger.warn('registry event notifications lost; polling the log until they are back', { error: e.message });
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, 5000);
    this.reconnectTimer = this.options.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.listen();
    }, delay);
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = this.options.clock.setTimeout(() => {
      void this.pull().finally(() => this.schedulePoll());
    }, this.options.pollIntervalMs);
  }
}
