import { mkdtempSync, rmSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateStore, type FileStateStoreOptions } from '@sov/state';
import { EmbeddedRegistryStore } from './embeddedRegistryStore';
import type { StoredAgent } from './storedAgent';

type StateFs = NonNullable<FileStateStoreOptions['fs']>;

const T0 = Date.parse('2026-01-01T00:00:00Z');
const agent = (id: string, metadata: Record<string, unknown> = {}): StoredAgent => ({
  id,
  name: `agent ${id}`,
  endpoint: `http://127.0.0.1:1/${id}`,
  capabilities: ['c'],
  services: [],
  metadata,
  ttl: 3600,
  registeredAt: new Date(T0).toISOString(),
  lastHeartbeat: new Date(T0).toISOString(),
  expiresAt: new Date(T0 + 3_600_000).toISOString(),
  reputation: 0.5,
  expiresAtMs: T0 + 3_600_000,
  firstSeenMs: T0,
  lastBeatMs: T0,
  liveMs: 0,
});

/** Node's file system whose journal writes fail with ENOSPC while `full` is set. */
function fillableFs(): { fs: StateFs; full: { on: boolean } } {
  const full = { on: false };
  const fs: StateFs = {
    open: async (path, flags) => {
      const fh = await fsp.open(path, flags);
      return {
        write: (buf, offset, length) =>
          full.on && path.includes('journal-')
            ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))
            : fh.write(buf, offset, length),
        datasync: () => fh.datasync(),
        sync: () => fh.sync(),
        truncate: (n) => fh.truncate(n),
        close: () => fh.close(),
      };
    },
    readFile: (p) => fsp.readFile(p),
    readdir: (p) => fsp.readdir(p),
    rename: (a, b) => fsp.rename(a, b),
    copyFile: (a, b) => fsp.copyFile(a, b),
    rm: (p, o) => fsp.rm(p, o),
    mkdir: (p, o) => fsp.mkdir(p, o),
  };
  return { fs, full };
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sov-registry-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('EmbeddedRegistryStore on a failing disk', () => {
  it('rejects a write the disk refuses with STATE_WRITE_FAILED, keeps it out of memory, reports health, and recovers', async () => {
    const dir = tempDir();
    const { fs, full } = fillableFs();
    const store = new EmbeddedRegistryStore({ state: await FileStateStore.open({ dir, fs }) });
    await store.open();
    await store.put(agent('a'));
    await store.adjustStake('a', 5);
    expect(store.health()).toEqual({ ok: true, detail: 'journal' });

    full.on = true;
    await expect(store.put(agent('b'))).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED', status: 503 });
    await expect(store.adjustStake('a', 3)).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    await expect(store.useReceipt('r1')).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    expect(await store.get('b')).toBeUndefined();
    expect(await store.getStake('a')).toBe(5);
    expect(await store.count()).toBe(1);
    const health = store.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toContain('ENOSPC');

    full.on = false;
    await store.put(agent('c'));
    expect(await store.useReceipt('r1')).toBe(true);
    expect(store.health().ok).toBe(true);
    await store.close();
    expect(store.health()).toEqual({ ok: false, detail: 'not open' });

    const again = new EmbeddedRegistryStore({ dir });
    await again.open();
    expect((await again.get('a'))?.id).toBe('a');
    expect(await again.get('b')).toBeUndefined();
    expect((await again.get('c'))?.id).toBe('c');
    expect(await again.getStake('a')).toBe(5);
    expect(await again.useReceipt('r1')).toBe(false);
    await again.close();
  });

  it('refuses a record nested past the state bound with NOT_SERIALIZABLE and keeps nothing of it, in memory or on disk', async () => {
    const dir = tempDir();
    const store = new EmbeddedRegistryStore({ dir });
    await store.open();
    let deep: unknown = 'leaf';
    for (let i = 0; i < 3_000; i++) deep = { a: deep };
    await expect(store.put(agent('deep', { deep }))).rejects.toMatchObject({ code: 'NOT_SERIALIZABLE', status: 400 });
    expect(await store.get('deep')).toBeUndefined();
    await store.put(agent('fine'));
    await store.close();
    const again = new EmbeddedRegistryStore({ dir });
    await again.open();
    expect(await again.count()).toBe(1);
    await again.close();
  });
});
