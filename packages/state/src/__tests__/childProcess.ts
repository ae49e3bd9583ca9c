import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const packageDir = join(__dirname, '..', '..');

/** A fixture script run with tsx in a child process, with its stdout split into complete lines. */
export interface Child {
  process: ChildProcessByStdio<null, Readable, Readable>;
  /** Complete stdout lines so far. */
  lines: string[];
  stderr: () => string;
  /** Resolves with the first line matching, rejects if the child exits first. */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Kills with SIGKILL and resolves once it has exited. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export function runFixture(name: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', name), ...args], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of waiters.filter((x) => x.pattern.test(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return {
    process: proc,
    lines,
    stderr: () => err,
    exited,
    waitForLine: (pattern) => {
      const found = lines.find((l) => pattern.test(l));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then((code) => reject(new Error(`child exited (${code}) before printing ${pattern}; stderr: ${err}; stdout: ${lines.join('\n')}`)));
      });
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
