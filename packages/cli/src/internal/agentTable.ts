import type { AgentRecord } from '@sov/core';
import type { Output } from './output';

/** Seconds of lease left, as people read it. */
export function leaseLeft(expiresAt: string, now: number): string {
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return 'expired';
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

/** Agents as a table on a terminal, or as JSON with `--json`. */
export function printAgents(out: Output, agents: AgentRecord[], total: number, now: number): void {
  if (out.json) {
    out.data({ agents, total });
    return;
  }
  const c = out.colors;
  const shade = (x: number) => (x >= 0.7 ? c.green : x >= 0.3 ? c.yellow : c.red)(x.toFixed(2));
  out.table(
    ['name', 'id', 'endpoint', 'capabilities', 'services (price)', 'reputation', 'availability', 'lease left'],
    agents.map((a) => [
      a.name,
      a.id,
      a.endpoint,
      a.capabilities.join(', '),
      a.services.map((s) => (s.price === undefined ? s.name : `${s.name} (${s.price})`)).join(', '),
      shade(a.reputation),
      shade(a.availability),
      leaseLeft(a.expiresAt, now),
    ]),
  );
  out.line(c.dim(`${agents.length} shown, ${total} match`));
}
