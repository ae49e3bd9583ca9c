import { randomUUID } from 'node:crypto';
import { Agent as Dispatcher, request as undiciRequest } from 'undici';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import {
  NetworkError,
  RECEIVER_HEADER,
  RemoteError,
  SovError,
  TimeoutError,
  abortErrorOf,
  isSovErrorCode,
  systemClock,
  type Clock,
  type Signer,
} from '@sov/core';
import { sovCodeOfJsonRpc } from './a2aErrors';
import {
  TERMINAL_TASK_STATES,
  type A2aAgentCard,
  type A2aMessage,
  type A2aPart,
  type A2aSendMessageParams,
  type A2aSendMessageResult,
  type A2aStreamEvent,
  type A2aTask,
} from './a2aWire';
import { SOV_EXTENSION_URI, type SovCardExtension } from './sovExtension';

/** The path of an agent card under an agent's origin. */
export const AGENT_CARD_PATH = '/.well-known/agent-card.json';

/** Options of an A2aClient. */
export interface A2aClientOptions {
  /**
   * Signs calls to Sovereign agents (cards with the Sovereign extension),
   * naming the card's did as receiver, so they are verified and stake-gated.
   * Calls to other A2A agents go unsigned. @default unsigned
   */
  signer?: Signer;
  /** Time budget of one call in ms: card, message and waiting for its task. @default 10000 */
  timeoutMs?: number;
  /** Largest card or reply body accepted, in bytes. @default 8388608 (8 MiB) */
  maxResponseBytes?: number;
  /** How long a fetched card is used before it is fetched again, in ms. @default 60000 */
  cardCacheMs?: number;
  /** First wait between GetTask polls of a task that is not done, in ms; it doubles up to 1 s. @default 50 */
  pollIntervalMs?: number;
  /** @default the system clock */
  clock?: Clock;
}

/** Options of one client call. */
export interface A2aCallOptions {
  /** This call's budget in ms. @default the client's timeoutMs */
  timeoutMs?: number;
  /** Aborting it ends the call with CANCELLED and cancels the remote task, if one was started. */
  signal?: AbortSignal;
}

/** An event of A2aClient.stream, with the JSON-RPC envelope taken off. */
export type A2aClientEvent = A2aStreamEvent;

/** The deadline and abort of one call, as one signal whose reason is our SovError. */
class CallBudget {
  readonly controller = new AbortController();
  private readonly timer: unknown;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    what: string,
    ms: number,
    private readonly clock: Clock,
    private readonly outer: AbortSignal | undefined,
  ) {
    this.timer = clock.setTimeout(() => this.controller.abort(new TimeoutError(what, ms)), ms);
    if (outer) {
      this.onAbort = () => this.controller.abort(abortErrorOf(outer, what));
      if (outer.aborted) this.onAbort();
      else outer.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The SovError the call ends with once aborted. */
  reason(): SovError {
    return this.controller.signal.reason as SovError;
  }

  done(): void {
    this.clock.clearTimeout(this.timer);
    if (this.onAbort) this.outer!.removeEventListener('abort', this.onAbort);
  }
}

/** The Sovereign extension of a card, when it has one. */
export function sovExtensionOf(card: A2aAgentCard): SovCardExtension | undefined {
  const ext = card.capabilities?.extensions?.find((e) => e.uri === SOV_EXTENSION_URI);
  const params = ext?.params as SovCardExtension | undefined;
  return params && typeof params === 'object' ? params : undefined;
}

/** What a reply's parts carry: the first data part's value, else the text parts joined. */
export function partsValue(parts: A2aPart[] | undefined): unknown {
  if (!parts) return undefined;
  const data = parts.find((p) => p && typeof p === 'object' && 'data' in p);
  if (data) return data.data;
  const texts = parts.filter((p) => typeof p?.text === 'string').map((p) => p.text);
  return texts.length > 0 ? texts.join('') : undefined;
}

/**
 * A client of A2A agents (JSON-RPC binding, A2A v1.0): reads an agent's card
 * from its URL, sends SendMessage, and waits for the task (polling GetTask)
 * or streams it (SendStreamingMessage). One deadline covers the whole call;
 * bodies are capped. Failures are SovErrors: the remote's code when it names
 * one (our agents put it in `error.data.code`), else one mapped from the
 * JSON-RPC code; TIMEOUT, CANCELLED, RESPONSE_TOO_LARGE, NETWORK_ERROR.
 *
 * @example
 * const client = new A2aClient();
 * const upper = await client.call('http://127.0.0.1:8080/.well-known/agent-card.json', 'uppercase', { text: 'hi' });
 */
export class A2aClient {
  private readonly options: Required<Omit<A2aClientOptions, 'signer' | 'clock'>>;
  private readonly signer: Signer | undefined;
  private readonly clock: Clock;
  private readonly dispatcher = new Dispatcher({ connections: 32, keepAliveTimeout: 10_000 });
  private readonly cards = new Map<string, { card: A2aAgentCard; until: number }>();
  private rpcId = 0;

  constructor(options: A2aClientOptions = {}) {
    this.signer = options.signer;
    this.clock = options.clock ?? systemClock;
    this.options = {
      timeoutMs: options.timeoutMs ?? 10_000,
      maxResponseBytes: options.maxResponseBytes ?? 8 * 1024 * 1024,
      cardCacheMs: options.cardCacheMs ?? 60_000,
      pollIntervalMs: options.pollIntervalMs ?? 50,
    };
    for (const [name, v] of Object.entries(this.options)) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new SovError('INVALID_CONFIG', `A2aClient ${name} must be a finite number >= 0, got ${String(v)}`);
    }
  }

  /** Reads (or takes from the cache) the card at `cardUrl`. */
  async card(cardUrl: string, options: A2aCallOptions = {}): Promise<A2aAgentCard> {
    const budget = this.budget(`GET ${cardUrl}`, options);
    try {
      return await this.cardWithin(cardUrl, budget);
    } finally {
      budget.done();
    }
  }

  /**
   * Calls skill `skill` of the agent at `cardUrl` with `params` (sent as a
   * data part, the skill named in `message.metadata.skill`) and returns the
   * reply's value: the message's data part, or the completed task's artifact.
   * A task that is not done is polled with GetTask until it ends; a failed
   * task rejects with the code its status names.
   */
  async call<T = unknown>(cardUrl: string, skill: string, params: unknown, options: A2aCallOptions = {}): Promise<T> {
    const budget = this.budget(`A2A call of ${skill} at ${cardUrl}`, options);
    let started: { card: A2aAgentCard; task: A2aTask } | undefined;
    try {
      const card = await this.cardWithin(cardUrl, budget);
      // returnImmediately: a message comes back in one round trip, a task at once with its id (so it can be followed and canceled).
      const send = { ...this.sendParams(skill, params), configuration: { returnImmediately: true } };
      const result = await this.rpc<A2aSendMessageResult>(card, 'SendMessage', send, budget);
      if ('message' in result && result.message) return partsValue(result.message.parts) as T;
      if (!('task' in result) || !result.task?.id) throw this.badReply(card, 'SendMessage answered neither a message nor a task');
      started = { card, task: result.task };
      let task = result.task;
      let followed = card.capabilities?.streaming !== true;
      let wait = this.options.pollIntervalMs;
      while (!TERMINAL_TASK_STATES.has(task.status?.state)) {
        if (task.status?.state === 'TASK_STATE_INPUT_REQUIRED' || task.status?.state === 'TASK_STATE_AUTH_REQUIRED') {
          throw new SovError('REMOTE_ERROR', `Task ${task.id} of ${skill} needs more input (${task.status.state}), which agent.call cannot give`);
        }
        if (!followed) {
          followed = true;
          // A quick task has ended by now: read it once before following it with a stream.
          task = await this.rpc<A2aTask>(card, 'GetTask', { id: task.id, historyLength: 0 }, budget);
          if (!TERMINAL_TASK_STATES.has(task.status?.state)) task = await this.follow(card, task, budget);
          continue;
        }
        await this.pause(wait, budget);
        wait = Math.min(1000, wait * 2);
        task = await this.rpc<A2aTask>(card, 'GetTask', { id: task.id, historyLength: 0 }, budget);
      }
      started = undefined;
      return this.taskValue(task, skill) as T;
    } catch (e) {
      if (started && budget.signal.aborted) this.cancelQuietly(started.card, started.task.id);
      throw budget.signal.aborted ? budget.reason() : e;
    } finally {
      budget.done();
    }
  }

  /** Follows a task with SubscribeToTask until it ends; the task as last seen when the stream ends early or cannot start. */
  private async follow(card: A2aAgentCard, task: A2aTask, budget: CallBudget): Promise<A2aTask> {
    let current: A2aTask = { ...task, artifacts: [...(task.artifacts ?? [])] };
    try {
      for await (const event of this.events(card, 'SubscribeToTask', { id: task.id }, budget)) {
        if ('task' in event) current = { ...event.task, artifacts: [...(event.task.artifacts ?? [])] };
        else if ('statusUpdate' in event) current.status = event.statusUpdate.status;
        else if ('artifactUpdate' in event) current.artifacts!.push(event.artifactUpdate.artifact);
        if (TERMINAL_TASK_STATES.has(current.status?.state)) break;
      }
    } catch (e) {
      if (budget.signal.aborted) throw budget.reason();
      // The task may have ended before the subscription (the agent refuses to follow a finished task): GetTask reads it.
      if (!(e instanceof SovError)) throw e;
    }
    return current;
  }

  /** Sends SendMessage and returns the reply as it comes (a message, or a task in any state). */
  async send(cardUrl: string, params: A2aSendMessageParams, options: A2aCallOptions = {}): Promise<A2aSendMessageResult> {
    return this.within(`SendMessage to ${cardUrl}`, options, async (budget) => this.rpc(await this.cardWithin(cardUrl, budget), 'SendMessage', params, budget));
  }

  /** Reads a task. */
  async getTask(cardUrl: string, id: string, options: A2aCallOptions = {}): Promise<A2aTask> {
    return this.within(`GetTask at ${cardUrl}`, options, async (budget) => this.rpc(await this.cardWithin(cardUrl, budget), 'GetTask', { id }, budget));
  }

  /** Cancels a task; resolves with it as the agent answers (TASK_STATE_CANCELED). */
  async cancelTask(cardUrl: string, id: string, options: A2aCallOptions = {}): Promise<A2aTask> {
    return this.within(`CancelTask at ${cardUrl}`, options, async (budget) => this.rpc(await this.cardWithin(cardUrl, budget), 'CancelTask', { id }, budget));
  }

  /**
   * Calls a skill with SendStreamingMessage and yields its events (the task,
   * status updates with progress, artifacts) until the task ends. The budget
   * covers the whole stream.
   *
   * @example
   * for await (const event of client.stream(cardUrl, 'index', { path })) {
   *   if ('statusUpdate' in event) console.log(event.statusUpdate.status.state);
   * }
   */
  async *stream(cardUrl: string, skill: string, params: unknown, options: A2aCallOptions = {}): AsyncGenerator<A2aClientEvent> {
    const budget = this.budget(`A2A stream of ${skill} at ${cardUrl}`, options);
    try {
      const card = await this.cardWithin(cardUrl, budget);
      yield* this.events(card, 'SendStreamingMessage', this.sendParams(skill, params), budget);
    } catch (e) {
      throw budget.signal.aborted ? budget.reason() : e;
    } finally {
      budget.done();
    }
  }

  /** The events of a streaming method, until the task ends or the stream does. */
  private async *events(card: A2aAgentCard, method: string, params: unknown, budget: CallBudget): AsyncGenerator<A2aClientEvent> {
    const id = ++this.rpcId;
    const response = await this.post(card, { jsonrpc: '2.0', id, method, params }, budget, 'text/event-stream');
    const type = String(response.headers['content-type'] ?? '');
    if (!type.startsWith('text/event-stream')) {
      const text = await this.readBody(response.body, budget, card);
      this.unwrap(card, response.statusCode, text, id);
      throw this.badReply(card, `${method} answered no event stream`);
    }
    const queue: A2aClientEvent[] = [];
    let failure: Error | undefined;
    const parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        try {
          queue.push(this.unwrap<A2aClientEvent>(card, 200, message.data, id));
        } catch (e) {
          failure ??= e as Error;
        }
      },
    });
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.options.maxResponseBytes) throw this.tooLarge(card);
        parser.feed((chunk as Buffer).toString('utf8'));
        while (queue.length > 0) {
          const event = queue.shift()!;
          yield event;
          if ('statusUpdate' in event && TERMINAL_TASK_STATES.has(event.statusUpdate.status?.state)) return;
        }
        if (failure) throw failure;
      }
    } finally {
      // Ends the stream's connection when the consumer stops early.
      response.body.destroy();
    }
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private budget(what: string, options: A2aCallOptions): CallBudget {
    const ms = options.timeoutMs ?? this.options.timeoutMs;
    if (!(typeof ms === 'number' && ms > 0 && Number.isFinite(ms))) throw new SovError('INVALID_INPUT', `timeoutMs must be a finite number > 0, got ${String(ms)}`);
    return new CallBudget(what, ms, this.clock, options.signal);
  }

  private async within<T>(what: string, options: A2aCallOptions, work: (budget: CallBudget) => Promise<T>): Promise<T> {
    const budget = this.budget(what, options);
    try {
      return await work(budget);
    } catch (e) {
      throw budget.signal.aborted ? budget.reason() : e;
    } finally {
      budget.done();
    }
  }

  private sendParams(skill: string, params: unknown): A2aSendMessageParams {
    const message: A2aMessage = {
      messageId: randomUUID(),
      role: 'ROLE_USER',
      parts: [{ data: params ?? {}, mediaType: 'application/json' }],
      metadata: { skill },
    };
    return { message };
  }

  private taskValue(task: A2aTask, skill: string): unknown {
    const state = task.status?.state;
    if (state === 'TASK_STATE_COMPLETED') {
      const artifacts = task.artifacts ?? [];
      return partsValue(artifacts[artifacts.length - 1]?.parts ?? task.status.message?.parts);
    }
    const detail = partsValue(task.status?.message?.parts);
    const named = (task.status?.message?.parts ?? []).find((p) => p && typeof p === 'object' && 'data' in p)?.data as { code?: unknown; message?: unknown } | undefined;
    const code = typeof named?.code === 'string' && isSovErrorCode(named.code) ? named.code : 'REMOTE_ERROR';
    const message = typeof named?.message === 'string' ? named.message : typeof detail === 'string' ? detail : `task ${task.id} ended ${state}`;
    throw new SovError(code, `A2A task ${task.id} of ${skill} ended ${state}: ${message}`);
  }

  private cancelQuietly(card: A2aAgentCard, id: string): void {
    const budget = new CallBudget(`CancelTask ${id}`, 2000, this.clock, undefined);
    this.rpc(card, 'CancelTask', { id }, budget).then(
      () => budget.done(),
      () => budget.done(),
    );
  }

  private async pause(ms: number, budget: CallBudget): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        budget.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        this.clock.clearTimeout(timer);
        resolve();
      };
      budget.signal.addEventListener('abort', onAbort, { once: true });
    });
    if (budget.signal.aborted) throw budget.reason();
  }

  private async cardWithin(cardUrl: string, budget: CallBudget): Promise<A2aAgentCard> {
    const cached = this.cards.get(cardUrl);
    if (cached && cached.until > this.clock.now()) return cached.card;
    let url: URL;
    try {
      url = new URL(cardUrl);
    } catch (cause) {
      throw new SovError('INVALID_INPUT', `Agent card URL is not a URL: ${cardUrl.slice(0, 200)}`, { cause });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SovError('INVALID_INPUT', `Agent card URL must be http(s): ${cardUrl.slice(0, 200)}`);
    let response: Awaited<ReturnType<typeof undiciRequest>>;
    try {
      response = await undiciRequest(url, { dispatcher: this.dispatcher, method: 'GET', headers: { accept: 'application/json', 'a2a-version': '1.0' }, signal: budget.signal });
    } catch (cause) {
      if (budget.signal.aborted) throw budget.reason();
      throw new NetworkError('GET', cardUrl, { cause });
    }
    const text = await this.readBody(response.body, budget, undefined, cardUrl);
    if (response.statusCode !== 200) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: `no agent card (${text.slice(0, 120)})`, status: response.statusCode, method: 'GET', url: cardUrl });
    }
    let card: A2aAgentCard;
    try {
      card = JSON.parse(text) as A2aAgentCard;
    } catch (cause) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: 'agent card is not JSON', status: 200, method: 'GET', url: cardUrl }, { cause });
    }
    if (!card || typeof card !== 'object' || !Array.isArray(card.supportedInterfaces) || !this.jsonRpcUrlOf(card)) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: 'agent card has no JSONRPC interface in supportedInterfaces', status: 200, method: 'GET', url: cardUrl });
    }
    if (this.cards.size >= 1000) this.cards.delete(this.cards.keys().next().value!);
    this.cards.set(cardUrl, { card, until: this.clock.now() + this.options.cardCacheMs });
    return card;
  }

  private jsonRpcUrlOf(card: A2aAgentCard): string | undefined {
    const candidates = card.supportedInterfaces.filter((i) => i && typeof i.url === 'string' && i.protocolBinding?.toUpperCase() === 'JSONRPC');
    const chosen = candidates.find((i) => i.protocolVersion === '1.0') ?? candidates.find((i) => !i.protocolVersion || i.protocolVersion.startsWith('1.'));
    if (!chosen || !/^https?:\/\//.test(chosen.url)) return undefined;
    return chosen.url;
  }

  private async post(card: A2aAgentCard, envelope: unknown, budget: CallBudget, accept: string) {
    const url = this.jsonRpcUrlOf(card)!;
    const body = Buffer.from(JSON.stringify(envelope));
    const headers: Record<string, string> = { 'content-type': 'application/json', accept, 'a2a-version': '1.0' };
    const sov = sovExtensionOf(card);
    if (this.signer && sov) {
      if (typeof sov.did === 'string') headers[RECEIVER_HEADER] = sov.did;
      Object.assign(headers, await this.signer.sign({ method: 'POST', url, body, headers }));
    }
    try {
      return await undiciRequest(url, { dispatcher: this.dispatcher, method: 'POST', headers, body, signal: budget.signal });
    } catch (cause) {
      if (budget.signal.aborted) throw budget.reason();
      throw new NetworkError('POST', url, { cause });
    }
  }

  private async rpc<T>(card: A2aAgentCard, method: string, params: unknown, budget: CallBudget): Promise<T> {
    const id = ++this.rpcId;
    const response = await this.post(card, { jsonrpc: '2.0', id, method, params }, budget, 'application/json');
    const text = await this.readBody(response.body, budget, card);
    return this.unwrap<T>(card, response.statusCode, text, id);
  }

  private async readBody(body: AsyncIterable<unknown> & { destroy?: (e?: Error) => void }, budget: CallBudget, card?: A2aAgentCard, url?: string): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > this.options.maxResponseBytes) {
          body.destroy?.();
          throw card ? this.tooLarge(card) : new SovError('RESPONSE_TOO_LARGE', `${url} answered more than ${this.options.maxResponseBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (e) {
      if (budget.signal.aborted) throw budget.reason();
      throw e;
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private tooLarge(card: A2aAgentCard): SovError {
    return new SovError('RESPONSE_TOO_LARGE', `${this.jsonRpcUrlOf(card)} answered more than ${this.options.maxResponseBytes} bytes`);
  }

  private badReply(card: A2aAgentCard, what: string): SovError {
    return new RemoteError({ code: 'REMOTE_ERROR', message: what, status: 200, method: 'POST', url: this.jsonRpcUrlOf(card) ?? '' });
  }

  /** The result of a JSON-RPC reply, or the SovError it stands for. */
  private unwrap<T>(card: A2aAgentCard, status: number, text: string, id: number): T {
    const url = this.jsonRpcUrlOf(card) ?? '';
    let parsed: { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: unknown; success?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (cause) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: `invalid JSON body: ${text.slice(0, 120)}`, status, method: 'POST', url }, { cause });
    }
    const error = parsed?.error as { code?: unknown; message?: unknown; data?: unknown } | undefined;
    if (parsed?.jsonrpc === '2.0' && error && typeof error === 'object') {
      const data = error.data as { code?: unknown; details?: unknown } | undefined;
      const named = typeof data?.code === 'string' && isSovErrorCode(data.code) ? data.code : undefined;
      throw new RemoteError({
        code: named ?? sovCodeOfJsonRpc(typeof error.code === 'number' ? error.code : 0),
        message: `${typeof error.message === 'string' ? error.message : 'error'} (JSON-RPC ${String(error.code)})`,
        status,
        method: 'POST',
        url,
        ...(data?.details === undefined ? {} : { details: data.details }),
      });
    }
    // Our endpoint refuses before JSON-RPC (an unsigned call to an agent that takes signed ones only) in the wire format.
    if (parsed?.success === false && error && typeof error === 'object') {
      throw new RemoteError({ code: typeof error.code === 'string' ? error.code : 'REMOTE_ERROR', message: typeof error.message === 'string' ? error.message : '', status, method: 'POST', url });
    }
    if (status >= 400 || parsed?.jsonrpc !== '2.0' || !('result' in parsed)) {
      throw new RemoteError({ code: 'REMOTE_ERROR', message: `not a JSON-RPC 2.0 reply: ${text.slice(0, 120)}`, status, method: 'POST', url });
    }
    if (parsed.id !== id) throw new RemoteError({ code: 'REMOTE_ERROR', message: `JSON-RPC reply id ${String(parsed.id)} is not ${id}`, status, method: 'POST', url });
    return parsed.result as T;
  }
}
