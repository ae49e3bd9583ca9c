import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedRegistryStore, MemoryRegistryStore, type RegistryStore } from '@sov/registry';
import { describeRegistryStoreConformance } from './registryStoreConformance';

describeRegistryStoreConformance('MemoryRegistryStore', {
  create: async () => {
    const store = new MemoryRegistryStore();
    await store.open();
    return store;
  },
});

const dirs = new Map<RegistryStore, string>();
afterAll(() => {
  for (const dir of new Set(dirs.values())) rmSync(dir, { recursive: true, force: true });
});

describeRegistryStoreConformance('EmbeddedRegistryStore', {
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sov-registry-store-'));
    const store = new EmbeddedRegistryStore({ dir });
    await store.open();
    dirs.set(store, dir);
    return store;
  },
  reopen: async (old) => {
    const dir = dirs.get(old)!;
    await old.close();
    const store = new EmbeddedRegistryStore({ dir });
    await store.open();
    dirs.set(store, dir);
    return store;
  },
});
