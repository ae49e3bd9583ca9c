/**
 * The agent's request route (node:http, the router, raw-body parse, handler, wire reply)
 * vs a bare node:http handler doing the same work, both on loopback and
 * called by the same keep-alive client.
 */
import { createServer, request, Agent as HttpAgent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareThroughput, report } from '@sov/tooling/bench';
import { Agent, createLogger } from '@sov/core';

const body = JSON.stringify({ service: 'sum', params: { values: Array.from({ length: 16 }, (_, i) => i) } });
const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 32 });

function post(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sum = (params: unknown) => (params as { values: number[] }).values.reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const agent = new Agent({ name: 'bench', logger: createLogger({ silent: true }) });
  agent.handle((req) => ({ result: sum(req.params) }));
  await agent.start();
  const agentPort = Number(new URL(agent.url!).port);

  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { params: unknown };
      const out = JSON.stringify({ success: true, result: sum(parsed.params) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const barePort = (bare.address() as AddressInfo).port;

  console.log('@sov/core: agent request route vs bare node:http (loopback, 16 concurrent, keep-alive)');
  const { subject, baseline, ratio } = await compareThroughput(
    () => post(agentPort, '/rpc'),
    () => post(barePort, '/'),
    { concurrency: 16, rounds: 5, roundMs: 800 },
  );
  report({ name: 'agent POST /rpc', unit: 'req/s', value: subject.opsPerSec, baselineName: 'bare node:http', baseline: baseline.opsPerSec, ratio });
  report({ name: 'agent POST /rpc p99', unit: 'ms', value: subject.p99Ms, baselineName: 'bare node:http p99', baseline: baseline.p99Ms });

  keepAlive.destroy();
  await agent.shutdown();
  await new Promise((r) => bare.close(r));
}

void main();
