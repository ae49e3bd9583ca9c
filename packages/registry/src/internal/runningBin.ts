import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The `sov-registry` source the bin tests run (with tsx). */
const BIN = join(__dirname, '..', 'bin.ts');

/**
 * Test helper (not exported by the package): starts `sov-registry` with
 * `args` in its own process and resolves once it logs the URL it serves,
 * or rejects with what it printed when it exits first.
 */
export function startRegistryBin(args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
}
