/**
 * The benchmark harness every package shares. Each figure is measured beside
 * its baseline in the same process and the same run, alternating rounds so
 * that machine noise hits both sides alike, and printed as a ratio.
 */
import { performance } from 'node:perf_hooks';

/** One unit of work; may be sync or async. */
export type Work = () => unknown;

export interface ThroughputOptions {
  /** Alternating rounds of subject and baseline. @default 5 */
  rounds?: number;
  /** Length of one round in ms. @default 600 */
  roundMs?: number;
  /** Calls kept in flight at once (async work). @default 1 */
  concurrency?: number;
  /** Warm-up per side in ms. @default 300 */
  warmupMs?: number;
}

export interface Measurement {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

async function runFor(work: Work, ms: number, concurrency: number, samples?: number[]): Promise<number> {
  const end = performance.now() + ms;
  let ops = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const r = work();
      if (r && typeof (r as Promise<unknown>).then === 'function') await r;
      if (samples) samples.push(performance.now() - t0);
      ops++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (ops * 1000) / (performance.now() - t0);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/**
 * Measures subject and baseline in alternating rounds; returns the median
 * rates, the latency percentiles and `ratio`, the median of the per-round
 * subject/baseline ratios (pass it to `report`).
 */
export async function compareThroughput(
  subject: Work,
  baseline: Work,
  options: ThroughputOptions = {},
): Promise<{ subject: Measurement; baseline: Measurement; ratio: number }> {
  const rounds = options.rounds ?? 5;
  const roundMs = options.roundMs ?? 600;
  const concurrency = options.concurrency ?? 1;
  const warm = options.warmupMs ?? 300;
  await runFor(subject, warm, concurrency);
  await runFor(baseline, warm, concurrency);
  const rates = { subject: [] as number[], baseline: [] as number[] };
  const lat = { subject: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which side goes first so drift does not favour one.
    const order: Array<'subject' | 'baseline'> = i % 2 === 0 ? ['subject', 'baseline'] : ['baseline', 'subject'];
    for (const side of order) {
      rates[side].push(await runFor(side === 'subject' ? subject : baseline, roundMs, concurrency, lat[side]));
    }
  }
  const summarise = (side: 'subject' | 'baseline'): Measurement => {
    const sorted = lat[side].sort((a, b) => a - b);
    return { opsPerSec: median(rates[side]), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  };
  // Each round of one side is measured next to a round of the other, so a slow spell of the machine hits both:
  // the median of the per-round ratios cancels it, where the ratio of the two medians need not.
  const ratio = median(rates.subject.map((s, i) => s / (rates.baseline[i] ?? s)));
  return { subject: summarise('subject'), baseline: summarise('baseline'), ratio };
}

/** Measures one piece of work on its own (no baseline). */
export async function measure(work: Work, options: ThroughputOptions = {}): Promise<Measurement> {
  const samples: number[] = [];
  await runFor(work, options.warmupMs ?? 300, options.concurrency ?? 1);
  const rate = await runFor(work, (options.roundMs ?? 600) * (options.rounds ?? 3), options.concurrency ?? 1, samples);
  samples.sort((a, b) => a - b);
  return { opsPerSec: rate, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}

export interface Target {
  /** `higher`: ratio should be >= value; `lower`: ratio should be <= value. */
  better: 'higher' | 'lower';
  ratio: number;
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3));

/** Prints one figure beside its baseline, the ratio and, if given, the target. Returns whether the target holds. */
export function report(line: {
  name: string;
  unit: string;
  value: number;
  baselineName: string;
  baseline: number;
  /** The paired ratio from compareThroughput (median of per-round ratios); value / baseline when absent. */
  ratio?: number;
  target?: Target;
}): boolean {
  const ratio = line.ratio ?? (line.baseline === 0 ? Infinity : line.value / line.baseline);
  let verdict = '';
  let ok = true;
  if (line.target) {
    ok = line.target.better === 'higher' ? ratio >= line.target.ratio : ratio <= line.target.ratio;
    verdict = `  target ${line.target.better === 'higher' ? '>=' : '<='} ${line.target.ratio}x: ${ok ? 'met' : 'MISSED'}`;
  }
  console.log(
    `${line.name}: ${fmt(line.value)} ${line.unit}  |  ${line.baselineName}: ${fmt(line.baseline)} ${line.unit}  |  ratio ${ratio.toFixed(3)}x${line.ratio === undefined ? '' : ' (paired rounds)'}${verdict}`,
  );
  return ok;
}

/**
 * Prints a compareThroughput result on three lines: the rates with the
 * paired ratio (and the target, if given), then each side's p50 and p99,
 * named by `latency`. Returns whether the target holds.
 *
 * @example
 * reportComparison(r, { name: 'our SendMessage', unit: 'msgs/s', baselineName: 'SDK' }, (p) => ({ name: `our SendMessage ${p}`, baselineName: `SDK ${p}` }));
 */
export function reportComparison(
  result: { subject: Measurement; baseline: Measurement; ratio: number },
  line: { name: string; unit: string; baselineName: string; target?: Target },
  latency: (percentile: 'p50' | 'p99') => { name: string; baselineName: string },
): boolean {
  const ok = report({ ...line, value: result.subject.opsPerSec, baseline: result.baseline.opsPerSec, ratio: result.ratio });
  for (const p of ['p50', 'p99'] as const) {
    const key = p === 'p50' ? 'p50Ms' : 'p99Ms';
    report({ ...latency(p), unit: 'ms', value: result.subject[key], baseline: result.baseline[key] });
  }
  return ok;
}

/** Prints a figure that has no baseline (for example a one-off duration). */
export function reportPlain(name: string, value: number, unit: string): void {
  console.log(`${name}: ${fmt(value)} ${unit}`);
}
