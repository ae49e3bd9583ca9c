import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Agent } from '@sov/core';
import { Identity } from '@sov/crypto';
import { TestRegistry } from '@sov/testing';

const root = join(__dirname, '..', '..');

describe('TestRegistry from the built @sov/testing', () => {
  it('is exported to ESM and CJS users', () => {
    const script = `
      const cjs = require('@sov/testing');
      import('@sov/testing').then((esm) => console.log(JSON.stringify([typeof cjs.TestRegistry.start, typeof esm.TestRegistry.start])));`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: join(root, 'tests'), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['function', 'function']);
  });

  it('runs the real registry: a signed agent registers and listAgents() shows it, then stop() ends it', async () => {
    const registry = await TestRegistry.start();
    const agent = new Agent({ name: 'listed', registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error' });
    try {
      expect(await registry.listAgents()).toEqual([]);
      await agent.start();
      const agents = await registry.listAgents();
      expect(agents.map((a) => [a.id, a.name])).toEqual([[agent.id, 'listed']]);
    } finally {
      await agent.shutdown();
      await registry.stop();
    }
    await expect(fetch(`${registry.url}/health`)).rejects.toThrow();
  });
});

describe('BatchProcessor in a plain script', () => {
  const run = (body: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', body], { cwd: join(root, 'tests'), encoding: 'utf8', timeout: 20_000 });

  it('keeps the process alive while items are pending, and settles them', () => {
    const out = run(`
      import { BatchProcessor } from '@sov/services';
      const batches = new BatchProcessor({ batchSize: 10, batchTimeoutMs: 200, process: async (items) => items.map((i) => i * 2) });
      const results = await Promise.all([batches.addItem(1), batches.addItem(2), batches.addItem(3)]);
      console.log(JSON.stringify(results));`);
    expect(out.status).toBe(0);
    expect(out.stdout.trim()).toBe('[2,4,6]');
  });

  it('lets an idle processor exit on its own', () => {
    const out = run(`
      import { BatchProcessor } from '@sov/services';
      new BatchProcessor({ batchSize: 10, batchTimeoutMs: 60000, process: async (items) => items });
      console.log('idle');`);
    expect(out.status).toBe(0);
    expect(out.stdout.trim()).toBe('idle');
    // It did not wait for the 60 s batch timeout: spawnSync would have killed it at 20 s.
    expect(out.signal).toBeNull();
  });
});
