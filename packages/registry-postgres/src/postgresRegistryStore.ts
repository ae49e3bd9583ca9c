import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { MAX_AMOUNT, SovError, createLogger, systemClock, type Clock, type Logger, type RegistryEvent } from '@sov/core';
import type { AgentStanding, EventReplay, RegistryStore, StoreSearch, StoredAgent, StoredPage } from '@sov/registry';
import { EventFeed } from './internal/eventFeed';
import { LATEST_VERSION, migrate } from './internal/migrations';
import { isUnreachable, storeError } from './internal/pgErrors';
import { encodeCursor, searchStatements } from './internal/searchSql';

/** Options of PostgresRegistryStore. */
export interface PostgresRegistryStoreOptions {
  /** Where the database is, e.g. `postgres://registry@db:5432/sov`. */
  connectionString: string;
  /**
   * The schema the registry's tables live in (created when missing). Every
   * replica of one registry names the same schema; two registries on one
   * database name two. @default 'sov_registry'
   */
  schema?: string;
  /** Connections in the pool (one more listens for events). @default 10 */
  poolSize?: number;
  /** How many recent events are kept for replay (Last-Event-ID). @default 10000 */
  eventRetention?: number;
  /**
   * How often the event log is read even without a notification, in ms: the
   * longest an event waits to reach this replica's subscribers (and to drop
   * its cached searches) while LISTEN/NOTIFY is down. @default 1000
   */
  pollIntervalMs?: number;
  /**
   * Hear appends at once with LISTEN/NOTIFY. Turn it off behind a pooler that
   * cannot hold a LISTEN (PgBouncer in transaction mode): events then reach
   * this replica by the poll alone, within pollIntervalMs. @default true
   */
  listen?: boolean;
  /** How often health() checks the database, in ms. @default 1000 */
  healthIntervalMs?: number;
  /** Longest wait for a connection, in ms. @default 5000 */
  connectTimeoutMs?: number;
  /** Longest a statement may run, in ms (server side, and the driver gives up a second later). @default 10000 */
  statementTimeoutMs?: number;
  /** The application_name of the store's connections (pg_stat_activity shows it). @default 'sov-registry' */
  applicationName?: string;
  /** @default the system clock */
  clock?: Clock;
  /** @default a JSON logger on stdout at 'info' */
  logger?: Logger;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const EXPIRE_BATCH = 500;
const PRUNE_EVERY = 256;

/** A 32-bit FNV-1a hash: the schema's advisory-lock class and its NOTIFY channel. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The lowest price among an agent's services (0 when none has a price): what maxPrice filters on. */
function minPrice(agent: StoredAgent): number {
  const prices = agent.services.map((s) => s.price).filter((p): p is number => typeof p === 'number');
  return prices.length ? Math.min(...prices) : 0;
}

interface EventRow {
  id: string;
  type: RegistryEvent['type'];
  at: string;
  data: RegistryEvent['data'];
}

const toEvent = (r: EventRow): RegistryEvent => ({ id: String(r.id), type: r.type, at: r.at, data: r.data });

/**
 * A RegistryStore in PostgreSQL, for several registry replicas on one
 * database. Everything lives in tables whose constraints keep the rules
 * under any concurrency (a stake never below zero, a receipt used once),
 * not in process memory:
 * - open() applies versioned migrations under an advisory lock (replicas
 *   starting together migrate once) and refuses a schema newer than the code;
 * - search is served by a GIN index on the capabilities array and a btree
 *   on (reputation DESC, id), pages with a keyset cursor;
 * - events get dense ids from one counter row, so they commit in id order;
 *   subscribeEvents() hands every replica's events to this one (LISTEN/NOTIFY,
 *   with a poll of the log as the fallback);
 * - lockAgent() serialises changes to one agent across replicas with a
 *   transaction-scoped advisory lock, and expire() skips records locked by one
 *   (DELETE … FOR UPDATE SKIP LOCKED), so each expiry is returned by exactly one replica;
 * - health() turns false while the database is unreachable, true when it is back.
 *
 * @example
 * const store = new PostgresRegistryStore({ connectionString: process.env.SOV_REGISTRY_DATABASE_URL! });
 * const registry = await RegistryServer.start({ store, verifier: new RequestVerifier(), receiptVerifier: verifyReceipt });
 */
export class PostgresRegistryStore implements RegistryStore {
  /** The schema version this code writes. */
  static readonly schemaVersion = LATEST_VERSION;
  private readonly schema: string;
  private readonly s: string;
  private readonly lockKey: number;
  private readonly channel: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly opts: Required<Omit<PostgresRegistryStoreOptions, 'clock' | 'logger' | 'schema' | 'connectionString' | 'applicationName'>>;
  private readonly connection: pg.ClientConfig;
  private pool: pg.Pool | undefined;
  private feed: EventFeed | undefined;
  /** The transaction of the lockAgent section running in this async context. */
  private readonly tx = new AsyncLocalStorage<pg.PoolClient>();
  private down: string | undefined = 'not open';
  private healthTimer: unknown;
  private appends = 0;
  private opening: Promise<void> | undefined;

  constructor(options: PostgresRegistryStoreOptions) {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new SovError('INVALID_CONFIG', 'PostgresRegistryStore needs a connectionString (postgres://user@host:port/database)');
    }
    this.schema = options.schema ?? 'sov_registry';
    if (!SCHEMA_NAME.test(this.schema)) {
      throw new SovError('INVALID_CONFIG', `PostgresRegistryStore schema must be a lower-case SQL identifier (a-z, 0-9, _); got ${JSON.stringify(this.schema)}`);
    }
    for (const [name, value, least] of [
      ['poolSize', options.poolSize, 1],
      ['eventRetention', options.eventRetention, 1],
      ['pollIntervalMs', options.pollIntervalMs, 1],
      ['healthIntervalMs', options.healthIntervalMs, 1],
      ['connectTimeoutMs', options.connectTimeoutMs, 1],
      ['statementTimeoutMs', options.statementTimeoutMs, 1],
    ] as const) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= least)) {
        throw new SovError('INVALID_CONFIG', `PostgresRegistryStore ${name} must be a whole number of at least ${least}; got ${String(value)}`);
      }
    }
    this.s = `"${this.schema}"`;
    this.lockKey = fnv1a(`sov-registry:${this.schema}`);
    this.channel = `sov_registry_${(this.lockKey >>> 0).toString(16)}`;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ meta: { component: 'registry-postgres' } });
    this.opts = {
      poolSize: options.poolSize ?? 10,
      eventRetention: options.eventRetention ?? 10_000,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      listen: options.listen ?? true,
      healthIntervalMs: options.healthIntervalMs ?? 1000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      statementTimeoutMs: options.statementTimeoutMs ?? 10_000,
    };
    this.connection = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      statement_timeout: this.opts.statementTimeoutMs,
      query_timeout: this.opts.statementTimeoutMs + 1000,
      application_name: options.applicationName ?? 'sov-registry',
      keepAlive: true,
    };
  }

  /** Connects, migrates the schema and starts following the event log. Opening an open store does nothing. */
  open(): Promise<void> {
    this.opening ??= this.connect().catch(async (e: unknown) => {
      this.opening = undefined;
      await this.shutdown();
      throw storeError(e, `opening schema "${this.schema}"`, false);
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    // A store whose earlier open() failed (and closed it) opens again.
    this.down = 'not open';
    const pool = new pg.Pool({ ...this.connection, max: this.opts.poolSize });
    // An idle connection the server dropped (a restart, pg_terminate_backend): the pool replaces it; the process lives on.
    pool.on('error', (e) => this.markDown(e));
    this.pool = pool;
    const client = await pool.connect();
    let broken: Error | undefined;
    const onError = (e: Error) => (broken = e);
    client.on('error', onError);
    try {
      const applied = await migrate(client, this.schema, this.s, this.lockKey);
      if (applied.length) this.logger.info('registry schema migrated', { schema: this.schema, applied, version: LATEST_VERSION });
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
    this.feed = new EventFeed({
      source: {
        after: async (afterId, limit) =>
          (await this.query<EventRow>('read events', false, `SELECT id, type, at, data FROM ${this.s}.events WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit])).rows.map(toEvent),
        latest: async () => Number(await this.latestEventId()),
      },
      connection: this.connection,
      channel: this.opts.listen ? this.channel : undefined,
      pollIntervalMs: this.opts.pollIntervalMs,
      clock: this.clock,
      logger: this.logger,
    });
    await this.feed.start();
    this.down = undefined;
    this.scheduleHealth();
    this.logger.info('registry store opened', { schema: this.schema, version: LATEST_VERSION });
  }

  async put(agent: StoredAgent): Promise<void> {
    await this.query('write an agent', true, `WITH ${this.agentWrites(1)} SELECT 1`, this.agentValues(agent), 'sov_put');
  }

  /**
   * The CTEs writing an agent's row and its record in one statement; the
   * values from `$first` on are agentValues(). With `from`, written only for
   * each row of that CTE (one row: written, none: not).
   */
  private agentWrites(first: number, from?: string): string {
    const [id, record, caps, rep, price, exp] = [0, 1, 2, 3, 4, 5].map((i) => `$${first + i}`);
    const row = `${id}, ${caps}::text[], ${rep}::double precision, ${price}::double precision, ${exp}::bigint`;
    return `agent_row AS (
        INSERT INTO ${this.s}.agents (id, capabilities, reputation, min_price, expires_at_ms) ${from ? `SELECT ${row} FROM ${from}` : `VALUES (${row})`}
        ON CONFLICT (id) DO UPDATE SET capabilities = EXCLUDED.capabilities, reputation = EXCLUDED.reputation,
        min_price = EXCLUDED.min_price, expires_at_ms = EXCLUDED.expires_at_ms RETURNING id),
      agent_record AS (
        INSERT INTO ${this.s}.agent_records (id, record) SELECT id, ${record}::json FROM agent_row
        ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record)`;
  }

  private agentValues(agent: StoredAgent): unknown[] {
    return [agent.id, JSON.stringify(agent), agent.capabilities, agent.reputation, minPrice(agent), agent.expiresAtMs];
  }

  async get(id: string): Promise<StoredAgent | undefined> {
    // Inside a lockAgent section the row stays locked until the section ends, so expire() cannot remove it under the section.
    const locked = this.tx.getStore() !== undefined;
    const { rows } = await this.query<{ record: StoredAgent }>(
      'read an agent',
      false,
      `SELECT r.record FROM ${this.s}.agents a JOIN ${this.s}.agent_records r ON r.id = a.id WHERE a.id = $1${locked ? ' FOR UPDATE OF a' : ''}`,
      [id],
      locked ? 'sov_get_locked' : 'sov_get',
    );
    return rows[0]?.record;
  }

  async delete(id: string): Promise<boolean> {
    const { rows } = await this.query<{ n: string }>(
      'delete an agent',
      true,
      `WITH row AS (DELETE FROM ${this.s}.agents WHERE id = $1 RETURNING id),
       record AS (DELETE FROM ${this.s}.agent_records WHERE id IN (SELECT id FROM row))
       SELECT count(*) AS n FROM row`,
      [id],
      'sov_delete',
    );
    return rows[0]?.n === '1';
  }

  async search(query: StoreSearch, now: number): Promise<StoredPage> {
    const sql = searchStatements(this.s, query, now);
    const [count, page] = await Promise.all([
      this.query<{ n: string }>('search', false, sql.count.text, sql.count.values),
      this.query<{ record: StoredAgent }>('search', false, sql.page.text, sql.page.values),
    ]);
    const agents = page.rows.slice(0, query.limit).map((r) => r.record);
    const more = page.rows.length > query.limit;
    return { agents, total: Number(count.rows[0]?.n ?? 0), nextCursor: more && agents.length ? encodeCursor(agents[agents.length - 1]!) : null };
  }

  async expire(now: number): Promise<StoredAgent[]> {
    const gone: StoredAgent[] = [];
    for (;;) {
      // SKIP LOCKED: a record another replica is expiring, or a lockAgent section holds, is not taken twice.
      const { rows } = await this.query<{ record: StoredAgent }>(
        'expire leases',
        true,
        `WITH row AS (
           DELETE FROM ${this.s}.agents WHERE id IN (
             SELECT id FROM ${this.s}.agents WHERE expires_at_ms <= $1 ORDER BY expires_at_ms LIMIT ${EXPIRE_BATCH} FOR UPDATE SKIP LOCKED
           ) RETURNING id)
         DELETE FROM ${this.s}.agent_records r USING row WHERE r.id = row.id RETURNING r.record`,
        [now],
        'sov_expire',
      );
      for (const r of rows) gone.push(r.record);
      if (rows.length < EXPIRE_BATCH) return gone;
    }
  }

  async count(): Promise<number> {
    const { rows } = await this.query<{ n: string }>('count agents', false, `SELECT count(*) AS n FROM ${this.s}.agents`, [], 'sov_count');
    return Number(rows[0]?.n ?? 0);
  }

  async getStake(agentId: string): Promise<number> {
    const { rows } = await this.query<{ stake: string }>('read a stake', false, `SELECT stake FROM ${this.s}.stakes WHERE agent_id = $1`, [agentId], 'sov_stake');
    return rows[0] ? Number(rows[0].stake) : 0;
  }

  async adjustStake(agentId: string, delta: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) throw new SovError('INVALID_AMOUNT', `A stake change must be a whole number of minor units; got ${delta}`);
    try {
      // One statement: the row lock orders concurrent changes and the CHECK refuses one that leaves [0, MAX_AMOUNT].
      // A debit only updates (no row is a stake of 0, which no debit leaves at or above zero).
      const { rows } =
        delta >= 0
          ? await this.query<{ stake: string }>(
              'credit a stake',
              true,
              `INSERT INTO ${this.s}.stakes (agent_id, stake) VALUES ($1, $2::bigint)
               ON CONFLICT (agent_id) DO UPDATE SET stake = ${this.s}.stakes.stake + EXCLUDED.stake RETURNING stake`,
              [agentId, String(delta)],
              'sov_credit_stake',
            )
          : await this.query<{ stake: string }>(
              'debit a stake',
              true,
              `UPDATE ${this.s}.stakes SET stake = stake + $2::bigint WHERE agent_id = $1 RETURNING stake`,
              [agentId, String(delta)],
              'sov_debit_stake',
            );
      if (!rows[0]) throw new SovError('INSUFFICIENT_STAKE', `Cannot debit ${-delta} from ${agentId}: its stake is 0`);
      return Number(rows[0].stake);
    } catch (e) {
      if ((e as { cause?: { code?: unknown } }).cause?.code === '23514') {
        const current = await this.getStake(agentId);
        if (delta < 0) throw new SovError('INSUFFICIENT_STAKE', `Cannot debit ${-delta} from ${agentId}: its stake is ${current}`);
        throw new SovError('INVALID_AMOUNT', `Cannot credit ${delta} to ${agentId}: its stake of ${current} would pass the largest amount, ${MAX_AMOUNT}`);
      }
      throw e;
    }
  }

  async useReceipt(receiptId: string): Promise<boolean> {
    const r = await this.query('use a receipt', true, `INSERT INTO ${this.s}.receipts (id) VALUES ($1) ON CONFLICT DO NOTHING`, [receiptId], 'sov_use_receipt');
    return r.rowCount === 1;
  }

  async getStanding(agentId: string): Promise<AgentStanding | undefined> {
    const { rows } = await this.query<{ standing: AgentStanding }>('read a standing', false, `SELECT standing FROM ${this.s}.standings WHERE agent_id = $1`, [agentId], 'sov_standing');
    return rows[0]?.standing;
  }

  async recordFeedback(feedback: { receiptId: string; standing: AgentStanding; agent?: StoredAgent }): Promise<boolean> {
    // One statement, so one transaction: the standing and the record are written only when the receipt is new.
    const values: unknown[] = [feedback.receiptId, feedback.standing.agentId, JSON.stringify(feedback.standing)];
    let agentWrite = '';
    if (feedback.agent) {
      values.push(...this.agentValues(feedback.agent));
      // The agent's row and record, written only when the receipt row was.
      agentWrite = `, ${this.agentWrites(4, 'receipt')}`;
    }
    const { rows } = await this.query<{ n: string }>(
      'record feedback',
      true,
      `WITH receipt AS (INSERT INTO ${this.s}.receipts (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id),
       standing AS (INSERT INTO ${this.s}.standings (agent_id, standing) SELECT $2, $3 FROM receipt
         ON CONFLICT (agent_id) DO UPDATE SET standing = EXCLUDED.standing RETURNING 1)${agentWrite}
       SELECT count(*) AS n FROM receipt`,
      values,
      feedback.agent ? 'sov_feedback_agent' : 'sov_feedback',
    );
    return rows[0]?.n === '1';
  }

  async appendEvent(event: Omit<RegistryEvent, 'id'>): Promise<RegistryEvent> {
    // The counter row's lock is held until commit: ids commit in order, and the NOTIFY goes out with the commit.
    const { rows } = await this.query<{ id: string }>(
      'append an event',
      true,
      `WITH seq AS (UPDATE ${this.s}.event_log SET last_id = last_id + 1 RETURNING last_id)
       INSERT INTO ${this.s}.events (id, type, at, data) SELECT last_id, $1, $2, $3 FROM seq RETURNING id, pg_notify('${this.channel}', id::text)`,
      [event.type, event.at, JSON.stringify(event.data)],
      'sov_append_event',
    );
    if (++this.appends % PRUNE_EVERY === 0) {
      // On a pool connection of its own, not the transaction of a section this append may be part of.
      this.tx.exit(() => this.prune()).catch((e: unknown) => this.logger.warn('pruning the registry event log failed', { error: (e as Error).message }));
    }
    return { ...event, id: String(rows[0]!.id) };
  }

  /** Drops events older than the replay window (eventRetention). */
  private async prune(): Promise<void> {
    await this.query(
      'prune events',
      true,
      `WITH bound AS (SELECT last_id - $1 AS through FROM ${this.s}.event_log),
       gone AS (DELETE FROM ${this.s}.events WHERE id <= (SELECT through FROM bound))
       UPDATE ${this.s}.event_log SET pruned_through = GREATEST(pruned_through, (SELECT through FROM bound))`,
      [this.opts.eventRetention],
    );
  }

  async latestEventId(): Promise<string> {
    const { rows } = await this.query<{ last_id: string }>('read the event log', false, `SELECT last_id FROM ${this.s}.event_log`, [], 'sov_latest_event');
    return String(rows[0]?.last_id ?? '0');
  }

  async eventsAfter(afterId: string | undefined): Promise<EventReplay> {
    // Decimal digits only: Number() would also take '', '0x10' and '1e3'.
    const after = afterId === undefined ? 0 : /^\d{1,15}$/.test(afterId) ? Number(afterId) : NaN;
    if (!Number.isSafeInteger(after)) throw new SovError('INVALID_INPUT', `Invalid Last-Event-ID: ${JSON.stringify(afterId)}`);
    const [events, log] = await Promise.all([
      this.query<EventRow>('read events', false, `SELECT id, type, at, data FROM ${this.s}.events WHERE id > $1 ORDER BY id`, [after], 'sov_events_after'),
      this.query<{ pruned_through: string }>('read the event log', false, `SELECT pruned_through FROM ${this.s}.event_log`, [], 'sov_pruned'),
    ]);
    const truncated = afterId !== undefined && after < Number(log.rows[0]?.pruned_through ?? 0);
    return { events: events.rows.map(toEvent), truncated };
  }

  subscribeEvents(listener: (event: RegistryEvent) => void): () => void {
    if (!this.feed) throw new SovError('STATE_CLOSED', 'The registry store is not open');
    return this.feed.subscribe(listener);
  }

  async lockAgent<T>(agentId: string, section: () => Promise<T>): Promise<T> {
    if (this.tx.getStore()) return section();
    let client: pg.PoolClient;
    try {
      client = await this.db().connect();
    } catch (e) {
      if (isUnreachable(e)) this.markDown(e);
      throw storeError(e, `a change to ${agentId}`, true);
    }
    let broken: Error | undefined;
    // A connection lost between the section's statements is reported here (the next statement fails), not as an unhandled 'error'.
    const onError = (e: Error) => {
      broken = e;
      this.markDown(e);
    };
    client.on('error', onError);
    try {
      // One round trip: both keys are integers computed here, nothing of the id reaches the SQL text.
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${this.lockKey}, ${fnv1a(agentId)})`);
      const result = await this.tx.run(client, section);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      if (isUnreachable(e)) {
        broken = e as Error;
        this.markDown(e);
      } else await client.query('ROLLBACK').catch((r: unknown) => (broken = r as Error));
      throw storeError(e, `a change to ${agentId}`, true);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * Whether the database answers: false (with the failure in `detail`) from
   * the first failed query or check until a check succeeds again; checked
   * every healthIntervalMs. For the registry's /ready.
   */
  health(): { ok: boolean; detail?: unknown } {
    return this.down === undefined ? { ok: true, detail: `PostgreSQL schema "${this.schema}" v${LATEST_VERSION}` } : { ok: false, detail: this.down };
  }

  async close(): Promise<void> {
    this.opening = undefined;
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.down = 'closed';
    if (this.healthTimer !== undefined) this.clock.clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
    const feed = this.feed;
    const pool = this.pool;
    this.feed = undefined;
    this.pool = undefined;
    await feed?.stop();
    await pool?.end().catch(() => undefined);
  }

  private db(): pg.Pool {
    if (!this.pool || this.down === 'closed') throw new SovError('STATE_CLOSED', 'The registry store is not open');
    return this.pool;
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    operation: string,
    write: boolean,
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>> {
    const client = this.tx.getStore() ?? this.db();
    try {
      return await client.query<R>(name ? { name, text, values } : { text, values });
    } catch (e) {
      if (isUnreachable(e)) this.markDown(e);
      throw storeError(e, operation, write);
    }
  }

  private markDown(e: unknown): void {
    if (this.down === 'closed') return;
    const detail = `PostgreSQL unreachable: ${(e as Error).message}`;
    if (this.down === undefined) this.logger.warn('registry database unreachable', { schema: this.schema, error: (e as Error).message });
    this.down = detail;
  }

  private scheduleHealth(): void {
    this.healthTimer = this.clock.setTimeout(() => {
      const pool = this.pool;
      if (!pool) return;
      pool
        .query('SELECT 1')
        .then(
          () => {
            if (this.down !== undefined && this.down !== 'closed') this.logger.info('registry database reachable again', { schema: this.schema });
            if (this.down !== 'closed') this.down = undefined;
          },
          (e: unknown) => this.markDown(e),
        )
        .finally(() => {
          if (this.pool === pool) this.scheduleHealth();
        });
    }, this.opts.healthIntervalMs);
  }
}
