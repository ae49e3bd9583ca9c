import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Runs a script with node in this workspace, as a user's project would (the built packages, no jest mapping). */
function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: join(root, 'tests'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The guide's integration test, in a plain script: a TestRegistry, a real
 * signed agent registered in it and seen by listAgents(), then both stopped.
 * Prints one JSON line with what it saw.
 */
const body = `
  const registry = await TestRegistry.start();
  const agent = new Agent({ name: 'listed', registryUrl: registry.url, identity: Identity.generate(), port: 0, logLevel: 'error', capabilities: ['analysis'] });
  const empty = await registry.listAgents();
  await agent.start();
  const listed = await registry.listAgents();
  await agent.shutdown();
  const afterShutdown = await registry.listAgents();
  await registry.stop();
  let reachable = true;
  try { await fetch(registry.url + '/health'); } catch { reachable = false; }
  console.log(JSON.stringify({ id: agent.id, empty, listed, afterShutdown, reachable }));
`;

interface Seen {
  id: string;
  empty: unknown[];
  listed: Array<{ id: string; name: string; capabilities: string[]; endpoint: string; reputation: number }>;
  afterShutdown: unknown[];
  reachable: boolean;
}

describe('TestRegistry from the built @sov/testing', () => {
  it.each([
    ['import (ESM)', ['--input-type=module', '-e', `import { TestRegistry } from '@sov/testing'; import { Agent } from '@sov/core'; import { Identity } from '@sov/crypto';\n${body}`]],
    [
      'require (CJS)',
      ['-e', `const { TestRegistry } = require('@sov/testing'); const { Agent } = require('@sov/core'); const { Identity } = require('@sov/crypto');\n(async () => {${body}})();`],
    ],
  ])('through %s: starts, lists a real signed agent after it registers, and stops', async (_how, args) => {
    const run = await runNode(args);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const seen = JSON.parse(run.stdout.trim()) as Seen;
    expect(seen.empty).toEqual([]);
    expect(seen.listed).toEqual([
      expect.objectContaining({ id: seen.id, name: 'listed', capabilities: ['analysis'], endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) as unknown, reputation: 0.5 }),
    ]);
    expect(seen.id).toMatch(/^did:key:z6Mk/);
    // Shutdown deregisters; stop() ends the server.
    expect(seen.afterShutdown).toEqual([]);
    expect(seen.reachable).toBe(false);
  });

  it('lists every agent, past one page of search results (500 at most)', async () => {
    const run = await runNode([
      '--input-type=module',
      '-e',
      `import { TestRegistry } from '@sov/testing';
       const registry = await TestRegistry.start({ insecure: true });
       const client = registry.client();
       const ids = Array.from({ length: 501 }, (_, i) => 'agent-' + String(i).padStart(3, '0'));
       for (let i = 0; i < ids.length; i += 50) {
         await Promise.all(ids.slice(i, i + 50).map((id) => client.register({ id, name: id, endpoint: 'http://127.0.0.1:9', capabilities: ['c'] })));
       }
       const listed = await registry.listAgents();
       await registry.stop();
       console.log(JSON.stringify(listed.map((a) => a.id).sort()));`,
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout.trim())).toEqual(Array.from({ length: 501 }, (_, i) => `agent-${String(i).padStart(3, '0')}`));
  });
});
