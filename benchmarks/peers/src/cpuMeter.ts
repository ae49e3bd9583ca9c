import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Work } from '@sov/tooling/bench';

let ticksPerSec: number | undefined;

/** CPU time (user + system) a process has used so far, in µs, from /proc/<pid>/stat (clock-tick resolution). */
export function processCpuMicros(pid: number): number {
  ticksPerSec ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSec;
}

/** Read and write system calls a process has made so far (syscr + syscw of /proc/<pid>/io: reads, writes, writevs, sends, receives). */
export function processSyscalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return field('syscr') + field('syscw');
}

function selfCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** What one side used per call. */
export interface CpuPerCall {
  calls: number;
  /** CPU µs per call, by process name, and `total`. */
  micros: Record<string, number>;
  /** Read and write system calls per call, by process name, and `total` (each write to a socket is a trip into the kernel). */
  syscalls: Record<string, number>;
}

/**
 * Splits the CPU time (and the read/write system calls) of the bench process and of the servers between two
 * sides measured in alternating rounds: work wrapped with `wrap(side, …)`
 * charges to that side everything every watched process used since the
 * other side's last call (compareThroughput awaits one side's round to its
 * last call before starting the other's).
 */
export class CpuMeter<Side extends string> {
  private current: Side | undefined;
  private last: { micros: Record<string, number>; syscalls: Record<string, number> } = { micros: {}, syscalls: {} };
  private readonly used = new Map<Side, { calls: number; micros: Record<string, number>; syscalls: Record<string, number> }>();

  /** `processes`: name -> pid of the other processes to watch; the bench process itself is `client`. */
  constructor(private readonly processes: Record<string, number>) {}

  private snapshot(): { micros: Record<string, number>; syscalls: Record<string, number> } {
    const micros: Record<string, number> = { client: selfCpuMicros() };
    const syscalls: Record<string, number> = { client: processSyscalls(process.pid) };
    for (const [name, pid] of Object.entries(this.processes)) {
      micros[name] = processCpuMicros(pid);
      syscalls[name] = processSyscalls(pid);
    }
    return { micros, syscalls };
  }

  private switchTo(side: Side | undefined): void {
    const now = this.snapshot();
    if (this.current !== undefined) {
      const acc = this.used.get(this.current)!;
      for (const kind of ['micros', 'syscalls'] as const) {
        for (const [name, v] of Object.entries(now[kind])) acc[kind][name] = (acc[kind][name] ?? 0) + v - (this.last[kind][name] ?? v);
      }
    }
    this.last = now;
    this.current = side;
    if (side !== undefined && !this.used.has(side)) this.used.set(side, { calls: 0, micros: {}, syscalls: {} });
  }

  /** `work`, charging its calls (and the CPU between them) to `side`. */
  wrap(side: Side, work: Work): Work {
    return () => {
      if (this.current !== side) this.switchTo(side);
      this.used.get(side)!.calls++;
      return work();
    };
  }

  /** Ends the accounting; µs per call of each side. */
  finish(): Map<Side, CpuPerCall> {
    this.switchTo(undefined);
    const out = new Map<Side, CpuPerCall>();
    const perCall = (used: Record<string, number>, calls: number) => {
      const out: Record<string, number> = {};
      let total = 0;
      for (const [name, v] of Object.entries(used)) {
        out[name] = v / calls;
        total += v;
      }
      out.total = total / calls;
      return out;
    };
    for (const [side, { calls, micros, syscalls }] of this.used) out.set(side, { calls, micros: perCall(micros, calls), syscalls: perCall(syscalls, calls) });
    return out;
  }
}
