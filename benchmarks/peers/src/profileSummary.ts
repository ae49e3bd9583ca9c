import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** One function's share of a CPU profile. */
export interface SelfTime {
  name: string;
  where: string;
  selfPct: number;
}

/**
 * The functions with the most self time in a .cpuprofile (V8's format, as
 * node --cpu-prof and node:inspector write it), and the self time by package
 * (`node:` for node's own JavaScript, `(native)` for V8 and C++ frames); in %
 * of the busy samples (`(idle)` left out and reported as `idlePct`).
 */
export function topSelfTime(
  file: string,
  limit = 25,
): { samples: number; busyUs: number; idlePct: number; top: SelfTime[]; byPackage: Array<{ name: string; selfPct: number }> } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] };
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  // Each sample stands for the time until the next one; the busy time is theirs, less the idle samples'.
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busyUs = 0;
  for (let i = 0; i < samples.length; i++) if (!idleIds.has(samples[i]!)) busyUs += deltas[i + 1] ?? 0;
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  const parentOf = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
  const byPackage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? node.hitCount ?? 0;
    if (n === 0) continue;
    const { functionName, lineNumber } = node.callFrame;
    const url = sourceOf(node.callFrame.url);
    if (functionName === '(idle)') {
      idle += n;
      continue;
    }
    total += n;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + n);
    // A native frame (a crypto job's run, a socket's writev) says little alone: name the JavaScript function that called it.
    const caller = url ? undefined : parentOf.get(node.id);
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : caller?.callFrame.url ? `(native, from ${caller.callFrame.functionName || '(anonymous)'} ${shorten(sourceOf(caller.callFrame.url))}:${caller.callFrame.lineNumber + 1})` : '';
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, hits: 0 };
    entry.hits += n;
    byFunction.set(key, entry);
  }
  const top = [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map(({ name, where, hits: n }) => ({ name, where, selfPct: (100 * n) / total }));
  const packages = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).map(([name, n]) => ({ name, selfPct: (100 * n) / total }));
  return { samples: total, busyUs, idlePct: (100 * idle) / (idle + total), top, byPackage: packages };
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm === -1) {
    const sov = /\/packages\/([^/]+)\//.exec(path);
    return sov ? `@sov/${sov[1]}` : shorten(path);
  }
  const rest = path.slice(nm + '/node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

/** The file a frame's url names; tsx's CommonJS wrapper is a data: URL naming the file in `__filename`. */
function sourceOf(url: string): string {
  if (!url.startsWith('data:')) return url;
  const named = /__filename(?:=|%3D)(?:"|%22)(.*?)(?:"|%22)/.exec(url.slice(0, 2000));
  try {
    return named ? decodeURIComponent(named[1]!) : 'data:';
  } catch {
    return 'data:';
  }
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) return path.slice(nm + '/node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

/** Prints topSelfTime as a table; with `calls` (how many calls the profile covers), in µs per call too. */
export function printTopSelfTime(title: string, file: string, limit = 25, calls?: number): void {
  const { samples, busyUs, idlePct, top, byPackage } = topSelfTime(file, limit);
  const perCall = (pct: number) => (calls ? ` ${((pct / 100) * (busyUs / calls)).toFixed(1).padStart(6)} µs` : '');
  console.log(`\n${title}: ${samples} busy samples, idle ${idlePct.toFixed(1)}% of the time${calls ? `, ${(busyUs / calls).toFixed(0)} µs busy per call over ${calls} calls` : ''} (${file})`);
  console.log('  self time by package: ' + byPackage.slice(0, 12).map((p) => `${p.name} ${p.selfPct.toFixed(1)}%${perCall(p.selfPct)}`).join(', '));
  console.log('  top functions by self time:');
  for (const t of top) console.log(`  ${t.selfPct.toFixed(1).padStart(5)}%${perCall(t.selfPct)}  ${t.name}  ${t.where}`);
}
