/**
 * Interop: the official @a2a-js/sdk client against our agent's A2A side. It
 * reads our card (and verifies its JWS), calls a service with valid and
 * invalid input, streams a long task's progress, and cancels a task.
 */
import { randomUUID } from 'node:crypto';
import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { Role, TaskState, verifyAgentCardSignature, type Message, type Part, type StreamResponse, type Task } from '@a2a-js/sdk';
import { isJsonRpcError } from '@a2a-js/sdk/errors';
import { Agent, createLogger, type RemoteError } from '@sov/core';
import { A2aClient, SOV_EXTENSION_URI, a2a, sovExtensionOf, type A2aApi, type A2aAgentCard } from '@sov/a2a';
import { Identity, publicKeyFromDidKey } from '@sov/crypto';
import { serviceRouter, type ServiceContext } from '@sov/services';
import { waitFor } from '@sov/testing';

function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

function userMessage(skill: string, value: unknown): Message {
  return {
    messageId: randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: [dataPart(value)],
    metadata: { skill },
    extensions: [],
    referenceTaskIds: [],
  };
}

function sendParams(skill: string, value: unknown, returnImmediately = false) {
  return {
    tenant: '',
    message: userMessage(skill, value),
    configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately },
    metadata: undefined,
  };
}

function dataOf(parts: Part[] | undefined): unknown {
  const part = parts?.find((p) => p.content?.$case === 'data');
  return part?.content?.$case === 'data' ? part.content.value : undefined;
}

/** A promise with its resolver: the test, not a clock, decides when a handler goes on. */
function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { open, wait };
}

describe('the official A2A SDK client calls our agent', () => {
  const identity = Identity.generate();
  let agent: Agent;
  let api: A2aApi;
  let client: Client;
  let release = gate();
  let aborted: unknown;
  let started = 0;
  const rich = Identity.generate();
  const poor = Identity.generate();

  beforeAll(async () => {
    agent = new Agent({ name: 'texter', identity, port: 0, host: '127.0.0.1', allowAnonymous: true, logger: createLogger({ silent: true }) });
    const services = agent.use(serviceRouter({ getStake: async (id) => (id === rich.id ? 500 : 0) }));
    services.register<{ text: string }, { text: string }>({
      name: 'uppercase',
      description: 'Upper-cases a text',
      price: 2,
      inputSchema: { type: 'object', properties: { text: { type: 'string', maxLength: 100 } }, required: ['text'], additionalProperties: false },
      outputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      handler: ({ text }) => ({ text: text.toUpperCase() }),
    });
    services.register<{ steps: number }, { done: number }>({
      name: 'count_slowly',
      description: 'Counts to steps, reporting progress, then waits for the test to let it finish',
      inputSchema: { type: 'object', properties: { steps: { type: 'integer', minimum: 1, maximum: 10 } }, required: ['steps'] },
      handler: async ({ steps }, ctx: ServiceContext) => {
        started++;
        ctx.signal.addEventListener('abort', () => {
          aborted = ctx.signal.reason as unknown;
        }, { once: true });
        for (let i = 1; i <= steps; i++) api.progress(ctx.requestId, { message: `step ${i} of ${steps}`, percent: (100 * i) / steps });
        await Promise.race([release.wait, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))]);
        return { done: steps };
      },
    });
    services.register({
      name: 'premium',
      description: 'Needs a stake of 100',
      requiresStake: true,
      minStake: 100,
      handler: (_p: unknown, ctx: ServiceContext) => ({ caller: ctx.caller?.id }),
    });
    api = agent.use(a2a({ services, taskServices: ['count_slowly'] }));
    await agent.start();
    client = await new ClientFactory().createFromUrl(agent.url!);
  });
  afterAll(async () => {
    release.open();
    await agent.shutdown();
  });
  beforeEach(() => {
    release = gate();
    aborted = undefined;
  });

  it('reads our card: one skill per service, terms and schemas in the Sovereign extension, did and endpoint, a JWS that verifies', async () => {
    const card = await client.getAgentCard();
    expect(card.name).toBe('texter');
    expect(card.skills.map((s) => s.id).sort()).toEqual(['count_slowly', 'premium', 'uppercase']);
    expect(card.supportedInterfaces[0]).toMatchObject({ url: `${agent.url}/a2a`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' });
    expect(card.capabilities?.streaming).toBe(true);
    const ext = sovExtensionOf(card as unknown as A2aAgentCard)!;
    expect(card.capabilities?.extensions.find((e) => e.uri === SOV_EXTENSION_URI)).toBeDefined();
    expect(ext.did).toBe(identity.id);
    expect(ext.endpoint).toBe(agent.url);
    expect(ext.services.uppercase).toMatchObject({ price: 2, inputSchema: { required: ['text'] }, outputSchema: { required: ['text'] } });
    expect(ext.services.count_slowly!.task).toBe(true);
    expect(ext.services.premium).toMatchObject({ requiresStake: true, minStake: 100 });

    // The SDK logs each signature that fails to verify; the forged card below makes one.
    jest.spyOn(console, 'debug').mockImplementation(() => undefined);
    const verify = verifyAgentCardSignature(async (kid) => {
      expect(kid).toBe(identity.id);
      return publicKeyFromDidKey(kid);
    });
    await expect(verify(card)).resolves.toBeUndefined();
    // A card changed in transit (a price lowered) no longer verifies.
    const forged = JSON.parse(JSON.stringify(card)) as typeof card;
    (forged.capabilities!.extensions[0]!.params as { services: { uppercase: { price: number } } }).services.uppercase.price = 0;
    await expect(verify(forged)).rejects.toThrow(/No valid signatures/);
  });

  it('calls a service with valid input and gets the result as a data part', async () => {
    const reply = await client.sendMessage(sendParams('uppercase', { text: 'hello a2a' }));
    expect('parts' in reply).toBe(true);
    const message = reply as Message;
    expect(message.role).toBe(Role.ROLE_AGENT);
    expect(dataOf(message.parts)).toEqual({ text: 'HELLO A2A' });
  });

  it('answers invalid input with JSON-RPC -32602 carrying our code and every bad field', async () => {
    const failure = await client.sendMessage(sendParams('uppercase', { text: 42, extra: true })).catch((e: unknown) => e);
    expect(isJsonRpcError(failure)).toBe(true);
    if (!isJsonRpcError(failure)) return;
    expect(failure.envelopeCode).toBe(-32602);
    const data = failure.data as { code: string; details: { problems: Array<{ path: string }> } };
    expect(data.code).toBe('INVALID_INPUT');
    expect(JSON.stringify(data.details)).toContain('/text');
  });

  it('answers an unknown skill and a message without a skill name with -32602', async () => {
    const unknown = await client.sendMessage(sendParams('no_such_skill', {})).catch((e: unknown) => e);
    expect(isJsonRpcError(unknown) && unknown.envelopeCode).toBe(-32602);
    expect(isJsonRpcError(unknown) && (unknown.data as { code: string }).code).toBe('SERVICE_NOT_FOUND');
    const params = sendParams('uppercase', { text: 'x' });
    params.message.metadata = undefined;
    const unnamed = await client.sendMessage(params).catch((e: unknown) => e);
    expect(isJsonRpcError(unnamed) && (unnamed.data as { code: string }).code).toBe('SERVICE_NAME_MISSING');
  });

  it('streams a long task: the task, working with progress while it runs, the artifact, completed', async () => {
    const seen: string[] = [];
    const consumed = (async () => {
      for await (const event of client.sendMessageStream(sendParams('count_slowly', { steps: 3 }))) {
        const payload: StreamResponse['payload'] = event.payload;
        if (payload?.$case === 'task') seen.push(`task:${TaskState[payload.value.status!.state]}`);
        else if (payload?.$case === 'statusUpdate') {
          const data = dataOf(payload.value.status!.message?.parts);
          seen.push(`status:${TaskState[payload.value.status!.state]}:${data === undefined ? '' : JSON.stringify(data)}`);
        } else if (payload?.$case === 'artifactUpdate') seen.push(`artifact:${JSON.stringify(dataOf(payload.value.artifact!.parts))}`);
      }
    })();
    // Progress arrives while the handler still runs: it waits for this gate.
    await waitFor('the last progress report is streamed', () => seen.some((s) => s.includes('"percent":100')), { timeoutMs: 10_000 });
    expect(seen.some((s) => s.startsWith('status:TASK_STATE_COMPLETED'))).toBe(false);
    release.open();
    await consumed;
    expect(seen[0]).toBe('task:TASK_STATE_SUBMITTED');
    expect(seen).toContain('status:TASK_STATE_WORKING:');
    expect(seen.filter((s) => s.includes('percent')).map((s) => JSON.parse(s.split(':TASK_STATE_WORKING:')[1]!) as { percent: number })).toEqual([
      { percent: 100 / 3 },
      { percent: 200 / 3 },
      { percent: 100 },
    ]);
    expect(seen.at(-2)).toBe('artifact:{"done":3}');
    expect(seen.at(-1)).toBe('status:TASK_STATE_COMPLETED:');
  });

  it('runs a task in the background on returnImmediately, shows it with GetTask and cancels it (the handler sees the abort)', async () => {
    const before = started;
    const reply = (await client.sendMessage(sendParams('count_slowly', { steps: 1 }, true))) as Task;
    expect(reply.id).toEqual(expect.any(String));
    await waitFor('the handler runs', () => started === before + 1, { timeoutMs: 10_000 });
    const running = await client.getTask({ tenant: '', id: reply.id });
    expect(running.status!.state).toBe(TaskState.TASK_STATE_WORKING);

    const canceled = await client.cancelTask({ tenant: '', id: reply.id, metadata: undefined });
    expect(canceled.status!.state).toBe(TaskState.TASK_STATE_CANCELED);
    await waitFor('the handler sees its signal abort', () => aborted !== undefined, { timeoutMs: 10_000 });
    expect((aborted as { code: string }).code).toBe('CANCELLED');
    expect((await client.getTask({ tenant: '', id: reply.id })).status!.state).toBe(TaskState.TASK_STATE_CANCELED);

    const again = await client.cancelTask({ tenant: '', id: reply.id, metadata: undefined }).catch((e: unknown) => e);
    expect(isJsonRpcError(again) && again.envelopeCode).toBe(-32002);
    const missing = await client.getTask({ tenant: '', id: randomUUID() }).catch((e: unknown) => e);
    expect(isJsonRpcError(missing) && missing.envelopeCode).toBe(-32001);
  });

  it('a blocking SendMessage to a task service waits for the completed task and its artifact', async () => {
    const before = started;
    const pending = client.sendMessage(sendParams('count_slowly', { steps: 2 }));
    await waitFor('the handler runs', () => started === before + 1, { timeoutMs: 10_000 });
    release.open();
    const task = (await pending) as Task;
    expect(task.status!.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(dataOf(task.artifacts[0]!.parts)).toEqual({ done: 2 });
  });

  it('an unsigned SDK client is anonymous: a stake-gated service refuses it; our signed client is verified and gated by its stake', async () => {
    const anonymous = await client.sendMessage(sendParams('premium', {})).catch((e: unknown) => e);
    expect(isJsonRpcError(anonymous) && (anonymous.data as { code: string }).code).toBe('UNAUTHORIZED');

    const signedRich = new A2aClient({ signer: rich.signer });
    const signedPoor = new A2aClient({ signer: poor.signer });
    try {
      await expect(signedRich.call(api.cardUrl!, 'premium', {})).resolves.toEqual({ caller: rich.id });
      const refused = (await signedPoor.call(api.cardUrl!, 'premium', {}).catch((e: unknown) => e)) as RemoteError;
      expect(refused.code).toBe('INSUFFICIENT_STAKE');
    } finally {
      await signedRich.close();
      await signedPoor.close();
    }
  });

  it('refuses requests that are not JSON-RPC 2.0, unknown methods and push notification configs, in JSON-RPC error objects', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${agent.url}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.json()) as { id: unknown; error?: { code: number } };
    };
    expect((await post([{ jsonrpc: '2.0', id: 1, method: 'GetTask' }])).error?.code).toBe(-32600);
    expect((await post({ jsonrpc: '1.0', id: 1, method: 'GetTask' })).error?.code).toBe(-32600);
    expect(await post({ jsonrpc: '2.0', id: 7, method: 'Nope', params: {} })).toMatchObject({ id: 7, error: { code: -32601 } });
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'CreateTaskPushNotificationConfig', params: {} })).error?.code).toBe(-32003);
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { parts: [] } } })).error?.code).toBe(-32602);
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 5 } })).error?.code).toBe(-32602);
  });
});
