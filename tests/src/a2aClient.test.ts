/**
 * Interop: our agent calls an agent built with the official @a2a-js/sdk
 * server, by its card URL, through agent.call and its peer-call wrappers.
 */
import { Agent, createLogger, type Capability, type SovError } from '@sov/core';
import { a2a, type A2aApi, type A2aClientEvent } from '@sov/a2a';
import { Identity } from '@sov/crypto';
import { resilience } from '@sov/resilience';
import { serviceRouter } from '@sov/services';
import { waitFor } from '@sov/testing';
import { startSdkAgent, type SdkAgent } from './a2aSdkAgent';

describe('our agent calls an A2A agent built with the official SDK, by its card URL', () => {
  let sdk: SdkAgent;
  /** A second SDK agent for the calls that time out or are aborted: its breaker is its own. */
  let sleeper: SdkAgent;
  let napper: SdkAgent;
  let agent: Agent;
  let api: A2aApi;
  const wrapped: string[] = [];

  beforeAll(async () => {
    sdk = await startSdkAgent();
    sleeper = await startSdkAgent('sleeper');
    napper = await startSdkAgent('napper');
    agent = new Agent({ name: 'caller', identity: Identity.generate(), port: 0, host: '127.0.0.1', logger: createLogger({ silent: true }) });
    const services = agent.use(serviceRouter());
    api = agent.use(a2a({ services, client: { pollIntervalMs: 10 } }));
    // A wrapper as any capability adds: it sees every peer call, A2A ones included.
    const observer: Capability = {
      name: 'observer',
      api: undefined,
      initialize: (ctx) => ctx.wrapPeerCalls((next) => (call) => (wrapped.push(`${call.endpoint} ${String(call.request.service)}`), next(call))),
    };
    agent.use(observer);
    agent.use(resilience({ retry: { maxAttempts: 3, initialDelay: 10, maxDelay: 20 }, breaker: { failureThreshold: 3, recoveryTimeout: 60_000 }, health: false }));
    await agent.start();
  });
  afterAll(async () => {
    await agent.shutdown();
    await sdk.close();
    await sleeper.close();
    await napper.close();
  });

  it('calls a skill that answers with a message and gets its data part', async () => {
    await expect(agent.call(sdk.cardUrl, 'shout', { text: 'hello' })).resolves.toEqual({ text: 'HELLO!' });
    expect(wrapped).toContain(`${sdk.cardUrl} shout`);
  });

  it('calls a skill that runs as a task and gets the completed task\'s artifact', async () => {
    await expect(agent.call(sdk.cardUrl, 'brew', { leaves: 'oolong' })).resolves.toEqual({ brewed: 'oolong', cups: 2 });
  });

  it('a task that fails rejects with its status message', async () => {
    const failure = (await agent.call(sdk.cardUrl, 'fail', {}).catch((e: unknown) => e)) as SovError;
    expect(failure.code).toBe('REMOTE_ERROR');
    expect(failure.message).toContain('the kettle broke');
  });

  it('streams a task of the SDK agent: task, working with progress, artifact, completed', async () => {
    const events: A2aClientEvent[] = [];
    for await (const event of api.client.stream(sdk.cardUrl, 'brew', { leaves: 'sencha' })) events.push(event);
    const kinds = events.map((e) => Object.keys(e)[0]);
    expect(kinds[0]).toBe('task');
    expect(kinds).toContain('artifactUpdate');
    const last = events.at(-1) as { statusUpdate: { status: { state: string } } };
    expect(last.statusUpdate.status.state).toBe('TASK_STATE_COMPLETED');
    const artifact = events.find((e) => 'artifactUpdate' in e) as { artifactUpdate: { artifact: { parts: Array<{ data: unknown }> } } };
    expect(artifact.artifactUpdate.artifact.parts[0]!.data).toEqual({ brewed: 'sencha', cups: 2 });
  });

  it('a dropped connection is retried by the resilience wrapper like any peer call', async () => {
    const before = sdk.requests;
    sdk.dropNext(1);
    await expect(agent.call(sdk.cardUrl, 'shout', { text: 'again' })).resolves.toEqual({ text: 'AGAIN!' });
    expect(sdk.requests - before).toBe(2);
  });

  it('the call deadline covers waiting for the task: TIMEOUT, and the remote task is canceled', async () => {
    const failure = (await agent.call(sleeper.cardUrl, 'hang', {}, { timeoutMs: 300 }).catch((e: unknown) => e)) as SovError;
    expect(failure.code).toBe('TIMEOUT');
    await waitFor('the SDK agent is asked to cancel the task', () => sleeper.canceled.length > 0, { timeoutMs: 10_000 });
  });

  it('the caller\'s abort ends the call with CANCELLED', async () => {
    const controller = new AbortController();
    const canceledBefore = napper.canceled.length;
    const requestsBefore = napper.requests;
    const pending = agent.call(napper.cardUrl, 'hang', {}, { signal: controller.signal }).catch((e: unknown) => e);
    // SendMessage, GetTask, then SubscribeToTask: the call is following its task.
    await waitFor('the call follows its task', () => napper.requests >= requestsBefore + 3, { timeoutMs: 10_000 });
    controller.abort();
    expect(((await pending) as SovError).code).toBe('CANCELLED');
    await waitFor('the SDK agent is asked to cancel the task', () => napper.canceled.length > canceledBefore, { timeoutMs: 10_000 });
  });

  it('an unreachable card URL fails with NETWORK_ERROR, and the breaker then opens for it', async () => {
    const dead = await startSdkAgent('dead');
    const cardUrl = dead.cardUrl;
    await dead.close();
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push(((await agent.call(cardUrl, 'shout', {}).catch((e: unknown) => e)) as SovError).code);
    expect(codes[0]).toBe('NETWORK_ERROR');
    expect(codes).toContain('CIRCUIT_OPEN');
  });
});
