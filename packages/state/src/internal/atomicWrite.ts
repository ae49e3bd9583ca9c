import { dirname } from 'node:path';
import { StateWriteFailedError } from '../errors/stateWriteFailedError';
import type { StateFileHandle, StateFs } from './stateFs';

/**
 * Makes a directory's entries (files created, renamed or removed in it)
 * durable. Some platforms cannot open a directory for fsync; there, rename is
 * as durable as the platform makes it.
 */
export async function fsyncDir(fs: StateFs, dir: string): Promise<void> {
  let fh: StateFileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Writes every byte of `buf` at the handle's current position (append mode: at the end). */
export async function writeAll(fh: StateFileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/** Runs one step of a write, turning its failure into a StateWriteFailedError naming the step and the file. */
async function step<T>(operation: string, path: string, run: () => Promise<T>, consequence: string): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw e instanceof StateWriteFailedError ? e : new StateWriteFailedError(operation, path, e, consequence);
  }
}

/**
 * Replaces `path` atomically: `write` fills a temporary file beside it, which
 * is fsynced, renamed over `path`, and the directory fsynced. A crash at any
 * point leaves either the old file or the new one, never a mix. A failure
 * rejects with a StateWriteFailedError and removes the temporary file
 * (`consequence` says what that failure means to the caller).
 */
export async function writeFileAtomic(
  fs: StateFs,
  path: string,
  write: (fh: StateFileHandle) => Promise<void>,
  consequence: string,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await step('open', tmp, () => fs.open(tmp, 'w'), consequence);
  try {
    await step('write', tmp, () => write(fh), consequence);
    await step('fsync', tmp, () => fh.sync(), consequence);
    await step('close', tmp, () => fh.close(), consequence);
    await step(`rename to ${path}`, tmp, () => fs.rename(tmp, path), consequence);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await step('fsync directory', dirname(path), () => fsyncDir(fs, dirname(path)), consequence);
}
