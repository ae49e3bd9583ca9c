/**
 * A2A benchmark: SendMessage throughput of our agent's A2A route (the
 * JSON-RPC route, the service router with schemas, an echo service) vs the
 * official @a2a-js/sdk server (express, DefaultRequestHandler, an echo
 * executor), each in its own process, driven by the same undici client with
 * the same JSON-RPC body, in alternating rounds of one run. Target: >= 2x.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { compareThroughput, reportComparison } from '@sov/tooling/bench';

const CONCURRENCY = 16;

/** Starts bench/a2aServers.ts in its own process and resolves to its port. */
function serve(mode: string): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'a2aServers.ts'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
  });
}

/** Sends SendMessage to `path` and checks the echoed data part. */
function sender(port: number, path: string): { send: () => Promise<void>; close: () => Promise<void> } {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  let id = 0;
  return {
    send: async () => {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: ++id,
        method: 'SendMessage',
        params: { message: { messageId: `m${id}`, role: 'ROLE_USER', parts: [{ data: { text: 'hello, a2a world' }, mediaType: 'application/json' }], metadata: { skill: 'echo' } } },
      });
      const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', 'a2a-version': '1.0' }, body });
      const reply = (await res.body.json()) as { result?: { message?: { parts?: Array<{ data?: { text?: string } }> } } };
      if (reply.result?.message?.parts?.[0]?.data?.text !== 'hello, a2a world') throw new Error(`${path} answered ${JSON.stringify(reply).slice(0, 200)}`);
    },
    close: () => pool.close(),
  };
}

async function main(): Promise<void> {
  const [oursServer, sdkServer] = await Promise.all([serve('ours'), serve('sdk')]);
  const oursClient = sender(oursServer.port, '/a2a');
  const sdkClient = sender(sdkServer.port, '/a2a');
  try {
    console.log(`@sov/a2a: SendMessage over loopback, each server in its own process (${CONCURRENCY} concurrent, keep-alive)`);
    const r = await compareThroughput(oursClient.send, sdkClient.send, { concurrency: CONCURRENCY, rounds: 4, roundMs: 1500 });
    reportComparison(
      r,
      {
        name: 'our A2A SendMessage (a2a() + service router, schemas checked)',
        unit: 'msgs/s',
        baselineName: '@a2a-js/sdk server (express + DefaultRequestHandler)',
        target: { better: 'higher', ratio: 2 },
      },
      (p) => ({ name: `our SendMessage ${p}`, baselineName: `SDK ${p}` }),
    );
  } finally {
    await oursClient.close();
    await sdkClient.close();
    oursServer.stop();
    sdkServer.stop();
  }
}

void main();
