import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Each package owns its error codes (declared with core's defineErrorCodes);
 * core keeps one registry per process. These run the built packages in a
 * child process, resolved from this workspace as a user's project would.
 */
const root = join(__dirname, '..', '..');
const published = readdirSync(join(root, 'packages'))
  .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string; private?: boolean })
  .filter((p) => !p.private)
  .map((p) => p.name);

function run(script: string): unknown {
  const out = execFileSync(process.execPath, ['-e', script], { cwd: join(root, 'tests'), encoding: 'utf8' });
  return JSON.parse(out);
}

interface Loaded {
  registered: { code: string; owner: string; status: number }[];
  tables: Record<string, Record<string, Record<string, number>>>;
  statusCjs: number;
  statusEsm: number;
}

describe('error codes owned by their packages', () => {
  let loaded: Loaded;

  beforeAll(() => {
    // Every package through require (CJS) and then through import (ESM): each
    // declares its codes twice, which must be a no-op, not a clash.
    loaded = run(`
      const names = ${JSON.stringify(published)};
      const tables = {};
      const tablesOf = (mod) => Object.fromEntries(Object.entries(mod).filter(([k]) => /_ERROR_CODES$/.test(k) && k !== 'A2A_ERROR_CODES'));
      for (const n of names) tables[n] = tablesOf(require(n));
      (async () => {
        for (const n of names) await import(n);
        const cjs = require('@sov/core');
        const esm = await import('@sov/core');
        console.log(JSON.stringify({ registered: esm.registeredErrorCodes(), tables, statusCjs: cjs.httpStatusOf('STATE_LOCKED'), statusEsm: esm.httpStatusOf('STATE_LOCKED') }));
      })();`) as Loaded;
  });

  it('loads every package in both builds without a clash; one registry serves both builds', () => {
    expect(loaded.registered.length).toBeGreaterThan(40);
    expect(loaded.statusCjs).toBe(423);
    expect(loaded.statusEsm).toBe(423);
  });

  it('declares every code exactly once across packages, each registered under the package that exports its table', () => {
    const seen = new Map<string, string>();
    const repeats: string[] = [];
    for (const [pkg, tables] of Object.entries(loaded.tables)) {
      for (const table of Object.values(tables)) {
        for (const code of Object.keys(table)) {
          const first = seen.get(code);
          if (first !== undefined && first !== pkg) repeats.push(`${code}: ${first} and ${pkg}`);
          seen.set(code, pkg);
        }
      }
    }
    expect(repeats).toEqual([]);
    const ownerOf = new Map(loaded.registered.map((r) => [r.code, r]));
    for (const [pkg, tables] of Object.entries(loaded.tables)) {
      for (const table of Object.values(tables)) {
        for (const [code, status] of Object.entries(table)) expect({ code, ...ownerOf.get(code) }).toEqual({ code, owner: pkg, status });
      }
    }
    expect(loaded.registered.filter((r) => !seen.has(r.code))).toEqual([]);
  });

  it('keeps the code strings clients branch on, each with its owner', () => {
    const owners = Object.fromEntries(loaded.registered.map((r) => [r.code, r.owner]));
    expect(owners).toMatchObject({
      INVALID_INPUT: '@sov/core',
      INSUFFICIENT_STAKE: '@sov/core',
      NOT_SERIALIZABLE: '@sov/core',
      SERVICE_NOT_FOUND: '@sov/core',
      CIRCUIT_OPEN: '@sov/core',
      STATE_LOCKED: '@sov/state',
      STATE_CORRUPT: '@sov/state',
      STATE_CLOSED: '@sov/state',
      STATE_WRITE_FAILED: '@sov/state',
      QUEUE_FULL: '@sov/events',
      HANDLER_FAILED: '@sov/services',
      OUTPUT_INVALID: '@sov/services',
      KEYSTORE_INVALID: '@sov/crypto',
      KEYSTORE_PASSPHRASE: '@sov/crypto',
      DECRYPTION_FAILED: '@sov/crypto',
      ROUTE_TAMPERED: '@sov/crypto',
      NO_FEDERATION_PATH: '@sov/crypto',
    });
  });

  it('refuses at load a code that another package declared, naming both (the CJS build declared it, the ESM build is asked)', () => {
    const out = run(`
      require('@sov/state');
      import('@sov/core').then((esm) => {
        try {
          esm.defineErrorCodes('@sov/impostor', { STATE_LOCKED: 409 });
          console.log(JSON.stringify('no error'));
        } catch (e) {
          console.log(JSON.stringify({ code: e.code, message: e.message, isSovError: esm.isSovError(e), status: esm.httpStatusOf('STATE_LOCKED') }));
        }
      });`);
    expect(out).toEqual({
      code: 'CONFLICT',
      message: 'Error code STATE_LOCKED is declared by @sov/state; @sov/impostor cannot declare it too (codes are unique across packages)',
      isSovError: true,
      status: 423,
    });
  });

  it("a peer's code this process does not know is REMOTE_ERROR with remoteCode, until the package that declares it loads", () => {
    const out = run(`
      const core = require('@sov/core');
      const answer = { code: 'STATE_LOCKED', message: 'held by pid 7', status: 423, method: 'POST', url: 'http://peer/rpc' };
      const before = new core.RemoteError(answer);
      const future = new core.RemoteError({ ...answer, code: 'ADDED_IN_A_LATER_RELEASE', status: 503 });
      require('@sov/state');
      const after = new core.RemoteError(answer);
      console.log(JSON.stringify({
        before: [before.code, before.remoteCode, before.status, core.hasErrorCode(before, 'STATE_LOCKED')],
        future: [future.code, future.remoteCode, future.status, core.isSovError(future)],
        after: [after.code, after.remoteCode, after.status],
      }));`);
    expect(out).toEqual({
      before: ['REMOTE_ERROR', 'STATE_LOCKED', 423, true],
      future: ['REMOTE_ERROR', 'ADDED_IN_A_LATER_RELEASE', 503, true],
      after: ['STATE_LOCKED', 'STATE_LOCKED', 423],
    });
  });
});
