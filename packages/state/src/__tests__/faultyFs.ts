import { nodeStateFs, type StateFileHandle, type StateFs } from '../internal/stateFs';

/** A file system call the store makes, as a fault names it. */
export type FsCall = 'open' | 'write' | 'datasync' | 'sync' | 'truncate' | 'close' | 'rename' | 'readFile' | 'readdir' | 'rm' | 'copyFile' | 'mkdir';

/** A fault: calls of this kind on a matching path fail with `code` (`times` times, or until cleared). */
export interface FsFault {
  call: FsCall;
  /** Matched against the path (both paths of a rename). @default every path */
  path?: RegExp;
  code: string;
  /** @default until cleared */
  times?: number;
  /** A write fault: write half of the buffer first, as a disk that fills up in the middle does. */
  partial?: boolean;
}

/** Node's file system with faults injected on demand, and a log of the calls made. */
export interface FaultyFs {
  fs: StateFs;
  inject(fault: FsFault): void;
  clear(): void;
  /** Calls made so far, `[call, path]`. */
  calls: Array<[FsCall, string]>;
  /** Faults that fired so far. */
  fired: Array<[FsCall, string]>;
}

const errnoError = (code: string, call: FsCall, path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: injected fault, ${call} '${path}'`), { code, syscall: call, path });

export function faultyFs(): FaultyFs {
  const faults: FsFault[] = [];
  const calls: Array<[FsCall, string]> = [];
  const fired: Array<[FsCall, string]> = [];
  const take = (call: FsCall, ...paths: string[]): FsFault | undefined => {
    calls.push([call, paths[0]!]);
    const f = faults.find((x) => x.call === call && (x.path === undefined || paths.some((p) => x.path!.test(p))));
    if (!f) return undefined;
    if (f.times !== undefined && --f.times <= 0) faults.splice(faults.indexOf(f), 1);
    fired.push([call, paths[0]!]);
    return f;
  };
  const check = (call: FsCall, ...paths: string[]) => {
    const f = take(call, ...paths);
    if (f) throw errnoError(f.code, call, paths[0]!);
  };
  const wrap = (fh: StateFileHandle, path: string): StateFileHandle => ({
    async write(buf, offset, length) {
      const f = take('write', path);
      if (f) {
        if (f.partial && length > 1) await fh.write(buf, offset, Math.floor(length / 2));
        throw errnoError(f.code, 'write', path);
      }
      return fh.write(buf, offset, length);
    },
    async datasync() {
      check('datasync', path);
      return fh.datasync();
    },
    async sync() {
      check('sync', path);
      return fh.sync();
    },
    async truncate(n) {
      check('truncate', path);
      return fh.truncate(n);
    },
    async close() {
      check('close', path);
      return fh.close();
    },
  });
  const fs: StateFs = {
    async open(path, flags) {
      check('open', path);
      return wrap(await nodeStateFs.open(path, flags), path);
    },
    async readFile(path) {
      check('readFile', path);
      return nodeStateFs.readFile(path);
    },
    async readdir(path) {
      check('readdir', path);
      return nodeStateFs.readdir(path);
    },
    async rename(from, to) {
      check('rename', from, to);
      return nodeStateFs.rename(from, to);
    },
    async copyFile(from, to) {
      check('copyFile', from, to);
      return nodeStateFs.copyFile(from, to);
    },
    async rm(path, options) {
      check('rm', path);
      return nodeStateFs.rm(path, options);
    },
    async mkdir(path, options) {
      check('mkdir', path);
      return nodeStateFs.mkdir(path, options);
    },
  };
  return { fs, inject: (f) => void faults.push({ ...f }), clear: () => void faults.splice(0), calls, fired };
}
