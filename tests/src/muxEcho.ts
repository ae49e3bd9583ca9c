import { Agent, createLogger } from '@sov/core';

const quiet = createLogger({ silent: true });

/** Agents and probes the sov-mux suites share. */

/** An agent whose handler answers `{ echo }`, waits `ms` when asked, and records what it saw of its signal. */
export async function echoAgent(options: { bodyLimit?: number } = {}) {
  const aborted: string[] = [];
  const agent = new Agent({ name: 'mux-echo', logger: quiet, allowAnonymous: true, shutdownTimeoutMs: 2000, ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}) });
  agent.handle(async (request, ctx) => {
    const params = (request.params ?? {}) as { ms?: number; size?: number; tag?: string; stubborn?: boolean };
    if (params.stubborn) await new Promise((resolve) => setTimeout(resolve, params.ms));
    else if (params.ms) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, params.ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          aborted.push(`${params.tag ?? ''}:${(ctx.signal.reason as { code?: string }).code ?? ''}`);
          resolve();
        });
      });
    }
    return { result: params.size ? 'x'.repeat(params.size) : { echo: params.tag ?? null } };
  });
  await agent.start();
  return { agent, url: agent.url!, aborted };
}

/** A metric's value on the agent's /metrics page. */
export async function metric(url: string, name: string): Promise<number> {
  const page = await (await fetch(`${url}/metrics`)).text();
  const line = page.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

export async function waitFor(condition: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
