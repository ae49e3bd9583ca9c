import { Agent, createLogger, type AgentOptions } from '@sov/core';

/** An agent on a loopback port that logs nothing and reads no SOV_* environment. */
export function quietAgent(options: Partial<AgentOptions> = {}): Agent {
  return new Agent({ name: 'test-agent', env: {}, logger: createLogger({ silent: true }), ...options });
}

/** POSTs JSON to a URL and returns status, headers and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}
