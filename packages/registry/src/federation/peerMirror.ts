import type { ValidateFunction } from 'ajv';
import { createParser } from 'eventsource-parser';
import { NetworkError, RemoteError, SovError, TimeoutError, toSovError, type AgentRecord, type Clock, type Logger } from '@sov/core';
import { MemoryRegistryStore } from '../memoryRegistryStore';
import type { StoreSearch } from '../registryStore';
import type { StoredAgent } from '../storedAgent';

/** Limits and timings of one peer's mirror (see RegistryFederationOptions.mirror). */
export interface PeerMirrorOptions {
  maxRecords: number;
  maxBytes: number;
  staleAfterMs: number;
  resyncMs: number;
  timeoutMs: number;
  idleMs: number;
  maxReconnectDelayMs: number;
}

/** How one peer's mirror stands. */
export interface PeerMirrorStatus {
  id: string;
  url: string;
  /** Whether the peer's event stream is connected right now. */
  connected: boolean;
  /** Whether a full snapshot was taken; records are served only after the first. */
  seeded: boolean;
  /** Records held. */
  records: number;
  /** The records' size (their JSON), bounded by maxBytesPerPeer. */
  bytes: number;
  /** Records left out because the mirror was full (maxRecordsPerPeer or maxBytesPerPeer), since the last snapshot. */
  dropped: number;
  /** Records refused as malformed, since the mirror started. */
  malformed: number;
  /** When the last message (event or keep-alive) came from the peer. */
  lastEventAt?: string;
  /** Since when the stream is down (unset while connected). */
  downSince?: string;
  /** The last failure of the stream or of a snapshot. */
  error?: { code: string; message: string };
}

/** What a mirror answers to a search: the page, or why it has none to give. */
export type MirrorAnswer = { ok: true; agents: AgentRecord[]; total: number } | { ok: false; error: { code: string; message: string } };

/** Only these events change what a peer lists. */
const STREAM_TYPES = ['peer_joined', 'peer_left', 'peer_updated', 'reputation_changed'] as const;
const SNAPSHOT_PAGE = 500;
/** The largest JSON body read from a peer (a snapshot page, a record), and the longest an unfinished stream message may grow. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The largest record kept (its JSON), so that a peer cannot fill memory with a few huge ones. */
const MAX_RECORD_BYTES = 32 * 1024;
/** Records refetched at once after events. */
const FETCHERS = 8;
/** Events (and their bytes) held while a snapshot is taken; past either the snapshot is taken again a second later. */
const MAX_HELD_EVENTS = 10_000;
const MAX_HELD_BYTES = 16 * 1024 * 1024;

const RECORD_FIELDS = [
  'id',
  'name',
  'endpoint',
  'capabilities',
  'services',
  'metadata',
  'ttl',
  'registeredAt',
  'lastHeartbeat',
  'expiresAt',
  'reputation',
  'availability',
] as const satisfies ReadonlyArray<keyof AgentRecord>;

/** One copy of a peer's listings: the records by id (what answers give), their search index, and their size. */
class MirrorCopy {
  readonly store = new MemoryRegistryStore({ eventRetention: 1 });
  readonly records = new Map<string, { record: AgentRecord; bytes: number }>();
  bytes = 0;
}

interface StreamEvent {
  type: string;
  peerId: string;
  /** Its size on the stream. */
  bytes: number;
  reputation?: unknown;
  /** The agent's record, when the peer sends it with peer_joined / peer_updated (this SDK's registries do). */
  record?: unknown;
}

/** Reads a JSON body of at most MAX_BODY_BYTES; RESPONSE_TOO_LARGE past it. */
async function boundedJson(res: Response, url: string): Promise<unknown> {
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw new SovError('RESPONSE_TOO_LARGE', `GET ${url} answered more than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new RemoteError({ code: 'REMOTE_ERROR', message: `not a JSON answer: ${text.slice(0, 120)}`, status: res.status, method: 'GET', url }, { cause });
  }
}

/**
 * A copy of one peer registry's listings, kept current by the peer's event
 * stream (resumed with Last-Event-ID), seeded by a full snapshot (its paged
 * search) when the stream starts, on a resume gap, when the peer peers
 * again (it restarted) and every `resyncMs`. Every record is checked
 * against the record schema before it is kept; at most `maxRecords` are
 * kept. Records are served while the stream is up, and for `staleAfterMs`
 * after it went down; then they are left out until it is back.
 */
export class PeerMirror {
  readonly id: string;
  readonly url: string;
  private readonly opts: PeerMirrorOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly validRecord: ValidateFunction;
  private copy = new MirrorCopy();
  /** Refetches in flight: agent id -> the refetch's number, or -1 once an event about the agent came meanwhile (its result is then dropped). */
  private readonly inflight = new Map<string, number>();
  private fetchSeq = 0;
  /** Agents to refetch after an event (a set: a burst of events about one agent costs one read). */
  private readonly dirty = new Set<string>();
  private fetchers = 0;
  /** Set while a snapshot is taken: events wait here, applied to the new copy before it replaces the old. */
  private held: StreamEvent[] | undefined;
  private heldBytes = 0;
  private heldOverflow = false;
  private seeding: Promise<void> | undefined;
  private seedAgain = false;
  private seeded = false;
  private lastEventId: string | undefined;
  private connected = false;
  private downSinceMs: number | undefined;
  private lastMessageMs: number | undefined;
  private dropped = 0;
  private malformed = 0;
  private error: { code: string; message: string } | undefined;
  private controller: AbortController | undefined;
  /** Aborted by close: ends snapshot and record reads in flight. */
  private readonly lifetime = new AbortController();
  private running: Promise<void> | undefined;
  private sleepTimer: unknown;
  private wake: (() => void) | undefined;
  private resyncTimer: unknown;
  private idleTimer: unknown;
  private closed = false;
  private changeCount = 0;
  /** Set by restart until the stream reconnected afresh. */
  private restarting = false;

  constructor(peer: { id: string; url: string }, options: PeerMirrorOptions, deps: { clock: Clock; logger: Logger; validRecord: ValidateFunction }) {
    this.id = peer.id;
    this.url = peer.url;
    this.opts = options;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.validRecord = deps.validRecord;
    this.downSinceMs = deps.clock.now();
  }

  /** Starts following the peer's stream (and takes the first snapshot once it is connected). */
  start(): void {
    this.running ??= this.loop();
  }

  /** Takes a new snapshot (the peer restarted or re-peered); the current copy serves meanwhile. */
  resync(): void {
    if (this.closed || this.seeding) return;
    // Down now: the resume (or the first connection's snapshot) comes with the reconnect; try again later.
    if (!this.connected) return this.scheduleResync();
    void this.seed();
  }

  /**
   * The peer peered again: it restarted, perhaps on a new store whose event
   * ids start over (a resume point from before would skip its new events).
   * Follows its stream afresh, without a resume point, which takes a new
   * snapshot; the current copy serves meanwhile.
   */
  restart(): void {
    if (this.closed) return;
    this.lastEventId = undefined;
    this.restarting = true;
    this.controller?.abort();
    this.clock.clearTimeout(this.sleepTimer);
    this.wake?.();
  }

  /** Stops the stream and every timer; the copy is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.controller?.abort();
    this.lifetime.abort();
    this.clock.clearTimeout(this.resyncTimer);
    this.clock.clearTimeout(this.idleTimer);
    this.clock.clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.running;
    await this.seeding;
    this.copy = new MirrorCopy();
  }

  /** Bumped by every change of what a search of this mirror answers (records, connection): cached answers compare it. */
  get changes(): number {
    return this.changeCount;
  }

  /** Until when, while nothing changes, the mirror stays as fresh as it is at `now` (a down stream turns stale at a known time). */
  freshUntil(now: number): number {
    if (this.connected || !this.seeded || this.downSinceMs === undefined) return Infinity;
    const staleAt = this.downSinceMs + this.opts.staleAfterMs;
    return staleAt > now ? staleAt : Infinity;
  }

  /** Whether records are served at `now`: seeded, and the stream up or down for at most staleAfterMs. */
  fresh(now: number): boolean {
    return this.seeded && (this.connected || (this.downSinceMs !== undefined && now - this.downSinceMs <= this.opts.staleAfterMs));
  }

  /** The peer's listings matching `query` (the registry's own search rules), or why none are served. */
  async search(query: StoreSearch, now: number): Promise<MirrorAnswer> {
    if (!this.seeded) return { ok: false, error: { code: 'UNAVAILABLE', message: `The mirror of ${this.id} has no snapshot yet${this.error ? `: ${this.error.message}` : ''}` } };
    if (!this.fresh(now)) {
      const since = new Date(this.downSinceMs ?? now).toISOString();
      return {
        ok: false,
        error: { code: 'UNAVAILABLE', message: `The event stream of ${this.id} is down since ${since}, longer than ${this.opts.staleAfterMs} ms: its listings are left out` },
      };
    }
    const { cursor: _cursor, ...rest } = query;
    const page = await this.copy.store.search(rest, now);
    const agents: AgentRecord[] = [];
    for (const a of page.agents) {
      const r = this.copy.records.get(a.id);
      if (r) agents.push(r.record);
    }
    return { ok: true, agents, total: page.total };
  }

  status(): PeerMirrorStatus {
    return {
      id: this.id,
      url: this.url,
      connected: this.connected,
      seeded: this.seeded,
      records: this.copy.records.size,
      bytes: this.copy.bytes,
      dropped: this.dropped,
      malformed: this.malformed,
      ...(this.lastMessageMs !== undefined ? { lastEventAt: new Date(this.lastMessageMs).toISOString() } : {}),
      ...(this.downSinceMs !== undefined && !this.connected ? { downSince: new Date(this.downSinceMs).toISOString() } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  // ---- the stream -----------------------------------------------------------

  private async loop(): Promise<void> {
    let delay = 100;
    while (!this.closed) {
      try {
        await this.follow();
        delay = 100;
      } catch (e) {
        if (this.closed) break;
        const err = toSovError(e);
        if (!this.restarting) {
          if (this.error?.code !== err.code) this.logger.warn('federation mirror: peer stream down; retrying', { peer: this.id, code: err.code, error: err.message });
          this.error = { code: err.code, message: err.message };
        }
      }
      if (this.connected) {
        this.downSinceMs = this.clock.now();
        this.changeCount++;
      }
      this.connected = false;
      this.clock.clearTimeout(this.idleTimer);
      if (this.closed) break;
      if (this.restarting) {
        this.restarting = false;
        delay = 100;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.sleepTimer = this.clock.setTimeout(resolve, delay);
      });
      delay = Math.min(this.opts.maxReconnectDelayMs, delay * 2);
    }
  }

  /** One connection to the peer's stream; returns when it ends. */
  private async follow(): Promise<void> {
    // A restart asked before this attempt is served by it: it starts without a resume point.
    this.restarting = false;
    const controller = new AbortController();
    this.controller = controller;
    const url = `${this.url}/v1/events?${STREAM_TYPES.map((t) => `type=${t}`).join('&')}`;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const connectTimer = this.clock.setTimeout(() => controller.abort(new TimeoutError(`GET ${url}`, this.opts.timeoutMs)), this.opts.timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: controller.signal });
    } catch (cause) {
      if (controller.signal.reason instanceof TimeoutError) throw controller.signal.reason;
      throw new NetworkError('GET', url, { cause });
    } finally {
      this.clock.clearTimeout(connectTimer);
    }
    if (!res.ok || !res.body) {
      const body = (await boundedJson(res, url).catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
      throw new RemoteError({ code: body?.error?.code ?? 'REMOTE_ERROR', message: body?.error?.message ?? res.statusText, status: res.status, method: 'GET', url });
    }
    const resumed = this.lastEventId !== undefined;
    this.connected = true;
    this.changeCount++;
    this.downSinceMs = undefined;
    this.error = undefined;
    this.touch();
    this.logger.info('federation mirror: peer stream connected', { peer: this.id, resumed });
    // A new stream (no resume point) starts from now: the snapshot covers what came before.
    if (!resumed || !this.seeded) void this.seed();
    let pendingBytes = 0;
    const parser = createParser({
      onEvent: (msg) => {
        pendingBytes = 0;
        if (msg.id !== undefined && /^[0-9]{1,20}$/.test(msg.id)) this.lastEventId = msg.id;
        if (msg.event === undefined || !(STREAM_TYPES as readonly string[]).includes(msg.event)) return;
        let payload: { data?: { peer_id?: unknown; reputation?: unknown; record?: unknown } };
        try {
          payload = JSON.parse(msg.data) as typeof payload;
        } catch {
          return;
        }
        const peerId = payload?.data?.peer_id;
        if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > 256) return;
        this.onStreamEvent({ type: msg.event, peerId, bytes: msg.data.length, reputation: payload.data?.reputation, record: payload.data?.record });
      },
      onComment: (comment) => {
        // The peer no longer has every event after our resume point: what we hold may have missed some.
        if (comment.includes('replay window exceeded')) {
          this.logger.warn('federation mirror: resume gap; taking a new snapshot', { peer: this.id, after: this.lastEventId });
          void this.seed();
        }
      },
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.touch();
        pendingBytes += value.byteLength;
        if (pendingBytes > MAX_MESSAGE_BYTES) {
          throw new SovError('RESPONSE_TOO_LARGE', `The event stream of ${this.id} sent a message over ${MAX_MESSAGE_BYTES} bytes`);
        }
        parser.feed(decoder.decode(value, { stream: true }));
      }
      throw new NetworkError('GET', url, { cause: new Error('the peer ended its event stream') });
    } catch (e) {
      if (controller.signal.aborted && controller.signal.reason instanceof TimeoutError) throw controller.signal.reason;
      if (e instanceof SovError) throw e;
      throw new NetworkError('GET', url, { cause: e });
    } finally {
      controller.abort();
    }
  }

  /** A message came: the stream is alive. One that stays silent past idleMs is dropped and reconnected. */
  private touch(): void {
    this.lastMessageMs = this.clock.now();
    this.clock.clearTimeout(this.idleTimer);
    const controller = this.controller;
    this.idleTimer = this.clock.setTimeout(
      () => controller?.abort(new TimeoutError(`the event stream of ${this.id} (no message)`, this.opts.idleMs)),
      this.opts.idleMs,
    );
  }

  private onStreamEvent(event: StreamEvent): void {
    if (this.inflight.has(event.peerId)) this.inflight.set(event.peerId, -1);
    if (this.held) {
      if (this.held.length < MAX_HELD_EVENTS && this.heldBytes + event.bytes <= MAX_HELD_BYTES) {
        this.held.push(event);
        this.heldBytes += event.bytes;
      } else {
        this.heldOverflow = true;
      }
      return;
    }
    this.apply(event, this.copy);
  }

  /** Applies one event to a copy: a leave now, a change by refetching the record. */
  private apply(event: StreamEvent, copy: MirrorCopy): void {
    if (event.type === 'peer_left') {
      this.dirty.delete(event.peerId);
      this.remove(event.peerId, copy);
      return;
    }
    const known = copy.records.get(event.peerId);
    if (event.type === 'reputation_changed' && known && typeof event.reputation === 'number' && event.reputation >= 0 && event.reputation <= 1) {
      this.keep({ ...known.record, reputation: event.reputation }, known.bytes, copy);
      return;
    }
    if (!known && !this.dirty.has(event.peerId) && copy.records.size + this.dirty.size >= this.opts.maxRecords) {
      this.dropped++;
      return;
    }
    if (event.record !== undefined) {
      // The record came with the event: no read back (a malformed one, or one about another agent, is ignored and counted).
      const checked = this.checked(event.record);
      if (checked?.record.id === event.peerId) {
        this.dirty.delete(event.peerId);
        this.keep(checked.record, checked.bytes, copy);
      } else if (checked) {
        this.malformed++;
      }
      return;
    }
    this.dirty.add(event.peerId);
    this.fetchDirty();
  }

  private fetchDirty(): void {
    while (this.fetchers < FETCHERS && this.dirty.size > 0 && !this.closed) {
      const id = this.dirty.values().next().value!;
      this.dirty.delete(id);
      this.fetchers++;
      void this.refetch(id).finally(() => {
        this.fetchers--;
        this.fetchDirty();
      });
    }
  }

  private async refetch(id: string): Promise<void> {
    const mine = ++this.fetchSeq;
    this.inflight.set(id, mine);
    const url = `${this.url}/v1/agents/${encodeURIComponent(id)}`;
    let checked: { record: AgentRecord; bytes: number } | undefined;
    let gone = false;
    try {
      const res = await fetch(url, { signal: this.deadline() });
      const body = (await boundedJson(res, url)) as { success?: unknown; agent?: unknown; error?: { code?: unknown } };
      if (res.status === 404) gone = true;
      else if (body?.success === true) checked = this.checked(body.agent);
      else throw new RemoteError({ code: typeof body?.error?.code === 'string' ? body.error.code : 'REMOTE_ERROR', message: 'the record could not be read', status: res.status, method: 'GET', url });
    } catch (e) {
      if (!this.closed) this.logger.warn('federation mirror: record not read', { peer: this.id, agentId: id, error: toSovError(e).message });
      checked = undefined;
    }
    const latest = this.inflight.get(id);
    if (latest === mine || latest === -1) this.inflight.delete(id);
    // Another event about this agent came meanwhile (its own refetch or removal decides), or a snapshot is
    // being taken (it reads the agent after this refetch began, and events since are held for it).
    if (latest !== mine || this.held || this.closed) return;
    if (gone) this.remove(id, this.copy);
    else if (checked?.record.id === id) this.keep(checked.record, checked.bytes, this.copy);
  }

  /** The record when it is one (schema, size), with the known fields only, and its size; undefined (counted) otherwise. */
  private checked(value: unknown): { record: AgentRecord; bytes: number } | undefined {
    if (!this.validRecord(value)) {
      this.malformed++;
      return undefined;
    }
    const r = value as Record<string, unknown>;
    const record = Object.fromEntries(RECORD_FIELDS.map((k) => [k, r[k]])) as unknown as AgentRecord;
    const bytes = JSON.stringify(record).length;
    if (bytes > MAX_RECORD_BYTES) {
      this.malformed++;
      return undefined;
    }
    return { record, bytes };
  }

  private remove(id: string, copy: MirrorCopy): void {
    const known = copy.records.get(id);
    if (!known) return;
    copy.records.delete(id);
    copy.bytes -= known.bytes;
    this.changeCount++;
    void copy.store.delete(id);
  }

  /** Keeps a record in a copy unless that would pass maxRecordsPerPeer or maxBytesPerPeer (then counted as dropped). */
  private keep(record: AgentRecord, bytes: number, copy: MirrorCopy): boolean {
    const known = copy.records.get(record.id);
    const grown = copy.bytes - (known?.bytes ?? 0) + bytes;
    if ((!known && copy.records.size >= this.opts.maxRecords) || grown > this.opts.maxBytes) {
      this.dropped++;
      return false;
    }
    copy.records.set(record.id, { record, bytes });
    copy.bytes = grown;
    this.changeCount++;
    // The peer's lease rules are the peer's: it tells when the agent leaves (peer_left), so the copy never expires here.
    const stored: StoredAgent = {
      id: record.id,
      name: record.name,
      endpoint: record.endpoint,
      capabilities: record.capabilities,
      services: record.services,
      metadata: record.metadata,
      ttl: record.ttl,
      registeredAt: record.registeredAt,
      lastHeartbeat: record.lastHeartbeat,
      expiresAt: record.expiresAt,
      reputation: record.reputation,
      expiresAtMs: Number.MAX_SAFE_INTEGER,
      firstSeenMs: 0,
      lastBeatMs: 0,
      liveMs: 0,
    };
    void copy.store.put(stored);
    return true;
  }

  /** The signal of one read from the peer: its timeout, or the mirror's close. */
  private deadline(): AbortSignal {
    return AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(this.opts.timeoutMs)]);
  }

  // ---- snapshots ------------------------------------------------------------

  /** Takes a snapshot into a new copy, applies the events that came meanwhile, then swaps it in. One at a time. */
  private seed(): Promise<void> {
    if (this.seeding) {
      this.seedAgain = true;
      return this.seeding;
    }
    this.seeding = (async () => {
      do {
        this.seedAgain = false;
        this.held = [];
        this.heldBytes = 0;
        this.heldOverflow = false;
        try {
          const copy = await this.snapshot();
          const held = this.held;
          this.held = undefined;
          this.copy = copy;
          this.seeded = true;
          this.changeCount++;
          for (const e of held) this.apply(e, copy);
          // Events were dropped while the snapshot was taken: take another, a second from now (a flood cannot keep it busy).
          this.scheduleResync(this.heldOverflow ? 1000 : this.opts.resyncMs);
        } catch (e) {
          this.held = undefined;
          const err = toSovError(e);
          this.error = { code: err.code, message: err.message };
          this.logger.warn('federation mirror: snapshot failed', { peer: this.id, code: err.code, error: err.message });
          // The stream's reconnect seeds again; a live stream gets another try at the next resync.
          this.scheduleResync();
        }
      } while (this.seedAgain && !this.closed && this.connected);
    })().finally(() => {
      this.seeding = undefined;
    });
    return this.seeding;
  }

  private scheduleResync(ms = this.opts.resyncMs): void {
    this.clock.clearTimeout(this.resyncTimer);
    if (this.closed) return;
    this.resyncTimer = this.clock.setTimeout(() => this.resync(), ms);
  }

  /** Every listing of the peer, page by page, at most maxRecords of them. */
  private async snapshot(): Promise<MirrorCopy> {
    const copy = new MirrorCopy();
    this.dropped = 0;
    let cursor: string | null = null;
    const maxPages = Math.ceil(this.opts.maxRecords / SNAPSHOT_PAGE) + 1;
    for (let page = 0; page < maxPages && !this.closed; page++) {
      const url = `${this.url}/v1/agents?limit=${SNAPSHOT_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      let res: Response;
      try {
        res = await fetch(url, { signal: this.deadline() });
      } catch (cause) {
        if ((cause as Error).name === 'TimeoutError') throw new TimeoutError(`GET ${url}`, this.opts.timeoutMs, { cause });
        throw new NetworkError('GET', url, { cause });
      }
      const body = (await boundedJson(res, url)) as { success?: unknown; agents?: unknown; nextCursor?: unknown; total?: unknown };
      if (body?.success !== true || !Array.isArray(body.agents)) {
        throw new RemoteError({ code: 'REMOTE_ERROR', message: 'the answer is not a search page', status: res.status, method: 'GET', url });
      }
      let full = false;
      for (const value of body.agents) {
        const checked = this.checked(value);
        if (checked && !this.keep(checked.record, checked.bytes, copy)) {
          full = true;
          break;
        }
      }
      if (full || copy.records.size >= this.opts.maxRecords) {
        const total = typeof body.total === 'number' ? body.total : copy.records.size;
        this.dropped = Math.max(this.dropped, total - copy.records.size);
        break;
      }
      if (typeof body.nextCursor !== 'string' || body.nextCursor.length === 0 || body.nextCursor.length > 256) break;
      cursor = body.nextCursor;
    }
    if (this.dropped > 0) this.logger.warn('federation mirror: peer lists more than the mirror keeps', { peer: this.id, kept: copy.records.size, bytes: copy.bytes, dropped: this.dropped });
    return copy;
  }
}
