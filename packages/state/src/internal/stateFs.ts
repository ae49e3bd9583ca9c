import * as fsp from 'node:fs/promises';

/** The calls a FileStateStore makes on an open file. */
export interface StateFileHandle {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file system calls a FileStateStore makes (the lock file aside): the
 * seam through which tests inject faults (ENOSPC, EIO, a rename refused)
 * without mocking Node's modules.
 */
export interface StateFs {
  open(path: string, flags: 'a' | 'r' | 'r+' | 'w'): Promise<StateFileHandle>;
  readFile(path: string): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
}

/** Node's file system. */
export const nodeStateFs: StateFs = {
  open: (path, flags) => fsp.open(path, flags),
  readFile: (path) => fsp.readFile(path),
  readdir: (path) => fsp.readdir(path),
  rename: (from, to) => fsp.rename(from, to),
  copyFile: (from, to) => fsp.copyFile(from, to),
  rm: (path, options) => fsp.rm(path, options),
  mkdir: (path, options) => fsp.mkdir(path, options),
};
