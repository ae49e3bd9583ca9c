/**
 * An A2A agent built with the official @a2a-js/sdk server (express), for
 * the interop tests: skills `shout` (answers a message), `brew` (a task:
 * submitted, working, artifact, completed), `hang` (a task that waits until
 * canceled) and `fail` (a task that fails). The skill is named in
 * `message.metadata.skill`; the params are the first data part.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Role, TaskState, type AgentCard, type Message, type Part, type Task } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { UserBuilder, agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import { a2aSdkCard } from '@sov/tooling/a2a-sdk-card';

export interface SdkAgent {
  /** Base URL of the agent. */
  url: string;
  cardUrl: string;
  /** JSON-RPC requests that reached the agent. */
  requests: number;
  /** Tasks whose cancelTask the SDK called. */
  canceled: string[];
  /** Drop the connection of the next `n` JSON-RPC requests before answering. */
  dropNext(n: number): void;
  close(): Promise<void>;
}

function data(value: unknown): Part {
  return { content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

function agentMessage(contextId: string, taskId: string, parts: Part[]): Message {
  return { messageId: `m-${Math.random().toString(36).slice(2)}`, contextId, taskId, role: Role.ROLE_AGENT, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

function paramsOf(message: Message): Record<string, unknown> {
  const part = message.parts.find((p) => p.content?.$case === 'data');
  return (part?.content?.$case === 'data' ? part.content.value : {}) as Record<string, unknown>;
}

class BrewerExecutor implements AgentExecutor {
  private readonly hanging = new Map<string, () => void>();

  constructor(private readonly canceled: string[]) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const message = ctx.userMessage;
    const named = (message.metadata as { skill?: unknown } | undefined)?.skill;
    const skill = typeof named === 'string' ? named : 'shout';
    const params = paramsOf(message);
    if (skill === 'shout') {
      bus.publish(AgentEvent.message(agentMessage(ctx.contextId, '', [data({ text: `${typeof params.text === 'string' ? params.text.toUpperCase() : ''}!` })])));
      bus.finished();
      return;
    }
    const task: Task = {
      id: ctx.taskId,
      contextId: ctx.contextId,
      status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: new Date().toISOString() },
      artifacts: [],
      history: [message],
      metadata: undefined,
    };
    bus.publish(AgentEvent.task(task));
    const status = (state: TaskState, parts?: Part[]) =>
      bus.publish(
        AgentEvent.statusUpdate({
          taskId: ctx.taskId,
          contextId: ctx.contextId,
          status: { state, message: parts ? agentMessage(ctx.contextId, ctx.taskId, parts) : undefined, timestamp: new Date().toISOString() },
          metadata: undefined,
        }),
      );
    status(TaskState.TASK_STATE_WORKING, [data({ percent: 50 })]);
    if (skill === 'hang') {
      await new Promise<void>((resolve) => this.hanging.set(ctx.taskId, resolve));
      return;
    }
    if (skill === 'fail') {
      status(TaskState.TASK_STATE_FAILED, [{ content: { $case: 'text', value: 'the kettle broke' }, metadata: undefined, filename: '', mediaType: '' }]);
      bus.finished();
      return;
    }
    bus.publish(
      AgentEvent.artifactUpdate({
        taskId: ctx.taskId,
        contextId: ctx.contextId,
        artifact: { artifactId: 'tea', name: 'tea', description: '', parts: [data({ brewed: params.leaves ?? 'green', cups: 2 })], metadata: undefined, extensions: [] },
        append: false,
        lastChunk: true,
        metadata: undefined,
      }),
    );
    status(TaskState.TASK_STATE_COMPLETED);
    bus.finished();
  }

  cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    this.canceled.push(taskId);
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: '',
        status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: new Date().toISOString() },
        metadata: undefined,
      }),
    );
    bus.finished();
    this.hanging.get(taskId)?.();
    this.hanging.delete(taskId);
    return Promise.resolve();
  }
}

/** Starts the SDK agent on an ephemeral loopback port. */
export async function startSdkAgent(name = 'sdk-brewer'): Promise<SdkAgent> {
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const card: AgentCard = a2aSdkCard({
    name,
    description: 'Brews tea, built with the official A2A SDK',
    url: `${url}/a2a/jsonrpc`,
    skills: ['shout', 'brew', 'hang', 'fail'].map((id) => ({ id, description: `The ${id} skill`, tags: id === 'brew' ? ['tea', 'beverages'] : ['text'] })),
  });

  const state = { requests: 0, drop: 0 };
  const canceled: string[] = [];
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new BrewerExecutor(canceled));
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler }));
  app.use('/a2a/jsonrpc', (req, _res, next) => {
    state.requests++;
    if (state.drop > 0) {
      state.drop--;
      req.socket.destroy();
      return;
    }
    next();
  });
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return {
    url,
    cardUrl: `${url}/.well-known/agent-card.json`,
    get requests() {
      return state.requests;
    },
    canceled,
    dropNext(n) {
      state.drop = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
