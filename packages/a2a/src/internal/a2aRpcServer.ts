import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  SovError,
  isSovError,
  toSovError,
  type AgentRequest,
  type Logger,
  type RequestContext,
  type RouteReply,
  type RouteRequest,
  type RpcReply,
} from '@sov/core';
import { A2A_ERROR_CODES, jsonRpcCodeOf } from '../a2aErrors';
import type { A2aMessage, A2aPart, A2aSendMessageResult, A2aStreamEvent, A2aTask, JsonRpcError } from '../a2aWire';
import type { A2aProgress, TaskBook, TaskEntry } from './taskBook';

/** A JSON-RPC error to answer with. */
class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

type RpcId = string | number | null;

/** What the JSON-RPC route needs of its capability. */
export interface A2aRpcServerDeps {
  /** Serves a call with the agent's request handler. */
  handle(request: AgentRequest, context: RequestContext): Promise<RpcReply>;
  /** The names of the agent's services, for the default skill and error messages. */
  services(): string[];
  /** Services that always run as tasks. */
  taskServices: ReadonlySet<string>;
  book: TaskBook;
  logger(): Logger;
}

const NEVER = new AbortController().signal;
const SSE_HEADERS = { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidParams(message: string, data?: unknown): RpcFailure {
  return new RpcFailure(A2A_ERROR_CODES.INVALID_PARAMS, message, data);
}

/** The JSON-RPC error object for anything thrown while serving; our code rides in `data.code`. */
function rpcErrorOf(e: unknown, logger: Logger): JsonRpcError {
  if (e instanceof RpcFailure) return { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) };
  if (isSovError(e)) {
    const data: Record<string, unknown> = { code: e.code };
    if (e.details !== undefined) data.details = e.details;
    return { code: jsonRpcCodeOf(e.code), message: e.message, data };
  }
  logger.error('A2A request failed', { error: toSovError(e).message });
  return { code: A2A_ERROR_CODES.INTERNAL_ERROR, message: 'Internal error', data: { code: 'INTERNAL' } };
}

function agentMessage(contextId: string, taskId: string | undefined, parts: A2aPart[]): A2aMessage {
  return { messageId: randomUUID(), role: 'ROLE_AGENT', contextId, ...(taskId ? { taskId } : {}), parts };
}

function sseFrame(id: RpcId, event: A2aStreamEvent): string {
  return `data: ${JSON.stringify({ jsonrpc: '2.0', id, result: event })}\n\n`;
}

/** A task as sent: history cut to the last `historyLength` messages when asked. */
function taskView(task: A2aTask, historyLength?: number): A2aTask {
  if (historyLength === undefined || !task.history) return { ...task };
  const { history, ...rest } = task;
  return historyLength === 0 ? rest : { ...rest, history: history.slice(-historyLength) };
}

interface ParsedSend {
  skill: string;
  params: unknown;
  message: A2aMessage;
  contextId: string;
  /** Run as a task (a task service, or a streaming call). */
  asTask: boolean;
  returnImmediately: boolean;
  historyLength: number | undefined;
}

/**
 * The A2A JSON-RPC binding of one agent: SendMessage, SendStreamingMessage
 * (SSE), GetTask, CancelTask and SubscribeToTask, routed into the agent's
 * request handler (so schemas, stakes, timeouts and metrics apply as on
 * `POST /rpc`). Every failure is a JSON-RPC error object whose `data.code`
 * is our stable code.
 */
export class A2aRpcServer {
  /** Tasks running now, by the request id their handler sees (the task id). */
  private readonly reporting = new Map<string, TaskEntry>();

  constructor(private readonly deps: A2aRpcServerDeps) {}

  async serve(request: RouteRequest): Promise<RouteReply> {
    let id: RpcId = null;
    try {
      const body = request.body;
      if (!isObject(body)) {
        throw new RpcFailure(
          A2A_ERROR_CODES.INVALID_REQUEST,
          Array.isArray(body) ? 'Batch requests are not supported; send one JSON-RPC request' : 'Request body must be a JSON-RPC 2.0 request object',
        );
      }
      if (typeof body.id === 'string' || typeof body.id === 'number') id = body.id;
      else if (body.id !== undefined && body.id !== null) throw new RpcFailure(A2A_ERROR_CODES.INVALID_REQUEST, 'id must be a string, a number or null');
      if (body.jsonrpc !== '2.0') throw new RpcFailure(A2A_ERROR_CODES.INVALID_REQUEST, 'jsonrpc must be "2.0"');
      if (typeof body.method !== 'string') throw new RpcFailure(A2A_ERROR_CODES.INVALID_REQUEST, 'method must be a string');
      const params = body.params === undefined ? {} : body.params;
      if (!isObject(params)) throw invalidParams('params must be an object');
      const caller = request.caller?.id;
      switch (body.method) {
        case 'SendMessage':
          return this.ok(id, await this.sendMessage(this.parseSend(params, false), request));
        case 'SendStreamingMessage':
          return this.stream(id, this.startTask(this.parseSend(params, true), request), true);
        case 'GetTask': {
          const entry = this.task(params, caller);
          return this.ok(id, taskView(entry.task, this.historyLength(params.historyLength)));
        }
        case 'CancelTask':
          return this.ok(id, this.cancel(this.task(params, caller)));
        case 'SubscribeToTask': {
          const entry = this.task(params, caller);
          if (entry.terminal) throw new RpcFailure(A2A_ERROR_CODES.UNSUPPORTED_OPERATION, `Task ${entry.task.id} has finished (${entry.task.status.state}); read it with GetTask`);
          return this.stream(id, entry, false);
        }
        case 'CreateTaskPushNotificationConfig':
        case 'GetTaskPushNotificationConfig':
        case 'ListTaskPushNotificationConfigs':
        case 'DeleteTaskPushNotificationConfig':
          throw new RpcFailure(A2A_ERROR_CODES.PUSH_NOTIFICATION_NOT_SUPPORTED, 'This agent sends no push notifications; stream the task or poll GetTask');
        default:
          throw new RpcFailure(A2A_ERROR_CODES.METHOD_NOT_FOUND, `No method ${JSON.stringify(body.method.slice(0, 100))}`);
      }
    } catch (e) {
      return { body: { jsonrpc: '2.0', id, error: rpcErrorOf(e, this.deps.logger()) } };
    }
  }

  /** Reports progress of the task whose handler sees `requestId`; false when there is none running. */
  progress(requestId: string, update: A2aProgress): boolean {
    const entry = this.reporting.get(requestId);
    if (!entry || entry.terminal) return false;
    const parts: A2aPart[] = [];
    if (typeof update.message === 'string' && update.message) parts.push({ text: update.message });
    const data: Record<string, unknown> = {};
    if (typeof update.percent === 'number' && Number.isFinite(update.percent)) data.percent = Math.min(100, Math.max(0, update.percent));
    if (update.data !== undefined) data.data = update.data;
    if (Object.keys(data).length > 0) parts.push({ data, mediaType: 'application/json' });
    return entry.setState('TASK_STATE_WORKING', parts.length > 0 ? agentMessage(entry.task.contextId, entry.task.id, parts) : undefined);
  }

  private ok(id: RpcId, result: unknown): RouteReply {
    return { body: { jsonrpc: '2.0', id, result } };
  }

  private historyLength(value: unknown): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalidParams('historyLength must be an integer >= 0');
    return value;
  }

  private task(params: Record<string, unknown>, caller: string | undefined): TaskEntry {
    if (typeof params.id !== 'string' || params.id === '') throw invalidParams('id must name a task');
    const entry = this.deps.book.get(params.id, caller);
    if (!entry) throw new RpcFailure(A2A_ERROR_CODES.TASK_NOT_FOUND, `No task ${JSON.stringify(params.id.slice(0, 100))}`);
    return entry;
  }

  private parseSend(params: Record<string, unknown>, streaming: boolean): ParsedSend {
    const message = params.message;
    if (!isObject(message)) throw invalidParams('params.message must be a Message object');
    if (message.role !== undefined && message.role !== 'ROLE_USER') throw invalidParams('message.role must be ROLE_USER');
    if (!Array.isArray(message.parts) || message.parts.length === 0) throw invalidParams('message.parts must hold at least one part');
    if (message.taskId !== undefined && message.taskId !== '') {
      throw new RpcFailure(A2A_ERROR_CODES.UNSUPPORTED_OPERATION, 'A task of this agent takes one message; send a new message without taskId');
    }
    const metadata = isObject(message.metadata) ? message.metadata : isObject(params.metadata) ? params.metadata : undefined;
    let skill = metadata?.skill;
    // The service list is read only when the message names no skill (one service is then the skill).
    const services = skill === undefined ? this.deps.services() : [];
    if (skill === undefined && services.length === 1) skill = services[0];
    if (typeof skill !== 'string' || skill === '') {
      const names = services.length > 0 ? services : this.deps.services();
      throw invalidParams(`Name the skill in message.metadata.skill: one of ${names.slice(0, 20).map((s) => `"${s}"`).join(', ') || 'none'}`, {
        code: 'SERVICE_NAME_MISSING',
      });
    }
    let input: unknown;
    let found = false;
    for (const part of message.parts as unknown[]) {
      if (isObject(part) && 'data' in part) {
        input = part.data;
        found = true;
        break;
      }
    }
    if (!found) {
      const text = (message.parts as unknown[]).find((p): p is { text: string } => isObject(p) && typeof p.text === 'string');
      if (!text) throw invalidParams('message.parts must hold a data part (the params) or a text part', { code: 'INVALID_INPUT' });
      input = { text: text.text };
    }
    const configuration = isObject(params.configuration) ? params.configuration : {};
    const contextId = typeof message.contextId === 'string' && message.contextId !== '' ? message.contextId : randomUUID();
    return {
      skill,
      params: input,
      message: message as unknown as A2aMessage,
      contextId,
      // A service that is not a task answers with a message, returnImmediately or not: no task is made, so there is none to return early.
      asTask: streaming || this.deps.taskServices.has(skill),
      returnImmediately: configuration.returnImmediately === true,
      historyLength: this.historyLength(configuration.historyLength),
    };
  }

  private async sendMessage(send: ParsedSend, request: RouteRequest): Promise<A2aSendMessageResult> {
    if (!send.asTask) {
      const reply = await this.deps.handle(
        { service: send.skill, params: send.params },
        { requestId: request.requestId, caller: request.caller, signal: NEVER, logger: this.deps.logger() },
      );
      return {
        message: {
          ...agentMessage(send.contextId, undefined, [{ data: reply.result ?? null, mediaType: 'application/json' }]),
          metadata: { skill: send.skill, ...(typeof reply.execution_time === 'number' ? { executionTime: reply.execution_time } : {}) },
        },
      };
    }
    const entry = this.startTask(send, request);
    // A blocking call waits for the task's end (A2A's default); returnImmediately answers with it as it is.
    if (!send.returnImmediately) await entry.settled();
    return { task: taskView(entry.task, send.historyLength) };
  }

  private startTask(send: ParsedSend, request: RouteRequest): TaskEntry {
    const entry = this.deps.book.create(request.caller?.id, send.skill, send.contextId, send.message);
    void this.run(entry, send, request);
    return entry;
  }

  private async run(entry: TaskEntry, send: ParsedSend, request: RouteRequest): Promise<void> {
    const taskId = entry.task.id;
    this.reporting.set(taskId, entry);
    // The handler starts after the task is answered or streamed: its events come after the task's first snapshot.
    await Promise.resolve();
    entry.setState('TASK_STATE_WORKING');
    try {
      const reply = await this.deps.handle(
        { service: send.skill, params: send.params },
        { requestId: taskId, caller: request.caller, signal: entry.controller.signal, logger: this.deps.logger() },
      );
      entry.addArtifact({ artifactId: randomUUID(), name: send.skill, parts: [{ data: reply.result ?? null, mediaType: 'application/json' }] });
      entry.setState('TASK_STATE_COMPLETED');
    } catch (e) {
      const err = toSovError(e);
      entry.setState(
        'TASK_STATE_FAILED',
        agentMessage(entry.task.contextId, taskId, [{ text: err.message }, { data: { code: err.code, message: err.message }, mediaType: 'application/json' }]),
      );
    } finally {
      this.reporting.delete(taskId);
    }
  }

  private cancel(entry: TaskEntry): A2aTask {
    if (entry.terminal) {
      throw new RpcFailure(A2A_ERROR_CODES.TASK_NOT_CANCELABLE, `Task ${entry.task.id} has finished (${entry.task.status.state}) and cannot be canceled`);
    }
    entry.setState('TASK_STATE_CANCELED');
    entry.controller.abort(new SovError('CANCELLED', `Task ${entry.task.id} was canceled by its client`));
    return taskView(entry.task);
  }

  private stream(id: RpcId, entry: TaskEntry, fresh: boolean): RouteReply {
    const out = new PassThrough();
    out.write(sseFrame(id, { task: taskView(entry.task) }));
    if (entry.terminal && fresh) {
      out.end();
    } else {
      const stop = entry.listen((event) => {
        out.write(sseFrame(id, event));
        if ('statusUpdate' in event && entry.terminal) out.end();
      });
      out.once('close', stop);
    }
    return { status: 200, contentType: 'text/event-stream', headers: SSE_HEADERS, body: out };
  }
}
