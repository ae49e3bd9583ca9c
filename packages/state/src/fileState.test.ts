import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, createLogger, hasErrorCode } from '@sov/core';
import { fileState } from './fileState';
import { namespaceDir } from './internal/namespaceDir';
import { memoryState } from './memoryState';
import { faultyFs } from './__tests__/faultyFs';
import { useTempDirs } from './__tests__/tempDir';

const tempDir = useTempDirs();
const running: Agent[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.shutdown()));
});
const logger = createLogger({ silent: true });
const newAgent = (options: { name?: string; agentId?: string } = {}) => {
  const agent = new Agent({ name: options.name ?? 'stateful', ...(options.agentId ? { agentId: options.agentId } : {}), host: '127.0.0.1', port: 0, logger, env: {} });
  running.push(agent);
  return agent;
};

describe('fileState capability', () => {
  it('offers getState / setState / updateState / deleteState and keeps the state across a restart of the agent', async () => {
    const dir = tempDir();
    const agent = newAgent({ agentId: 'did:key:z6MkAgentOne' });
    const state = agent.use(fileState({ dir }));
    await agent.start();
    expect(await state.getState('visits')).toBeUndefined();
    expect(await state.getState('visits', 0)).toBe(0);
    await state.setState('profile', { name: 'analyst', tags: ['a'] });
    await Promise.all(Array.from({ length: 25 }, () => state.updateState<number>('visits', (n) => (n ?? 0) + 1)));
    await state.setState('temporary', true);
    expect(await state.deleteState('temporary')).toBe(true);
    expect(state.store.durability).toBe('journal');
    const directory = state.store.directory;
    expect(directory).toBe(join(dir, namespaceDir('did:key:z6MkAgentOne')));
    await agent.shutdown();
    expect(existsSync(join(directory, 'LOCK'))).toBe(false);
    await expect(state.getState('visits')).rejects.toMatchObject({ code: 'STATE_CLOSED' });

    const again = newAgent({ agentId: 'did:key:z6MkAgentOne' });
    const restored = again.use(fileState({ dir }));
    await again.start();
    expect(await restored.getState('visits')).toBe(25);
    expect(await restored.getState('profile')).toEqual({ name: 'analyst', tags: ['a'] });
    expect(await restored.getState('temporary', 'none')).toBe('none');
    await again.shutdown();
  });

  it('namespaces the state by agent id: two agents on one directory do not share it', async () => {
    const dir = tempDir();
    const a = newAgent({ agentId: 'agent-a' });
    const b = newAgent({ agentId: 'agent-b' });
    const sa = a.use(fileState({ dir }));
    const sb = b.use(fileState({ dir }));
    await Promise.all([a.start(), b.start()]);
    await sa.setState('who', 'a');
    expect(await sb.getState('who')).toBeUndefined();
    await Promise.all([a.shutdown(), b.shutdown()]);
  });

  it('namespaces an agent without a stable id by its name, so its state still survives a restart', async () => {
    const dir = tempDir();
    const first = newAgent({ name: 'nameless' });
    const s1 = first.use(fileState({ dir }));
    await first.start();
    await s1.setState('k', 1);
    await first.shutdown();
    const second = newAgent({ name: 'nameless' });
    const s2 = second.use(fileState({ dir }));
    await second.start();
    expect(await s2.getState('k')).toBe(1);
    await second.shutdown();
  });

  it('rejects use before the agent initializes with STATE_CLOSED', async () => {
    const agent = newAgent({ agentId: 'early' });
    const state = agent.use(fileState({ dir: tempDir() }));
    const error = await state.setState('k', 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasErrorCode(error, 'STATE_CLOSED')).toBe(true);
    expect(() => state.store).toThrow(/available once the agent has initialized/);
  });

  it('fails the agent start with STATE_LOCKED when another agent holds the same state', async () => {
    const dir = tempDir();
    const a = newAgent({ agentId: 'twin' });
    a.use(fileState({ dir }));
    await a.start();
    const b = newAgent({ agentId: 'twin' });
    b.use(fileState({ dir }));
    try {
      await expect(b.start()).rejects.toMatchObject({ code: 'CAPABILITY_FAILED', cause: { code: 'STATE_LOCKED' } });
    } finally {
      await a.shutdown();
    }
  });

  it('reports the store in the agent health check', async () => {
    const agent = newAgent({ agentId: 'healthy' });
    agent.use(fileState({ dir: tempDir(), durability: 'checkpoint' }));
    await agent.start();
    const res = await fetch(`${agent.url!}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ checks: { state: { ok: true, detail: 'checkpoint' } } });
    await agent.shutdown();
  });

  it('fails the health check while the disk refuses writes, naming the failure, and passes again once a write succeeds', async () => {
    const faults = faultyFs();
    const agent = newAgent({ agentId: 'full-disk' });
    const state = agent.use(fileState({ dir: tempDir(), fs: faults.fs }));
    await agent.start();
    faults.inject({ call: 'write', path: /journal-/, code: 'ENOSPC', times: 1 });
    await expect(state.setState('k', 1)).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    const res = await fetch(`${agent.url!}/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: { state: { ok: boolean; detail: string } } };
    expect(body.checks.state).toEqual({ ok: false, detail: expect.stringMatching(/write of .*journal-.*ENOSPC/) as unknown });
    await state.setState('k', 2);
    expect((await fetch(`${agent.url!}/health`)).status).toBe(200);
    expect(await state.getState('k')).toBe(2);
  });
});

describe('memoryState capability', () => {
  it('offers the same API, in memory', async () => {
    const agent = newAgent({ agentId: 'memory' });
    const state = agent.use(memoryState());
    await agent.start();
    await state.setState('k', { v: 1 });
    expect(await state.updateState<{ v: number }>('k', (c) => ({ v: c!.v + 1 }))).toEqual({ v: 2 });
    await agent.shutdown();
  });
});
