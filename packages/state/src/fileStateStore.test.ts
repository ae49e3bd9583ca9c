import { describeStateStoreConformance } from './conformance';
import { FileStateStore } from './fileStateStore';
import { useTempDirs } from './__tests__/tempDir';

const tempDir = useTempDirs();

describeStateStoreConformance('FileStateStore (journal)', () => FileStateStore.open({ dir: tempDir() }), {
  reopen: async (store) => {
    await store.close();
    return FileStateStore.open({ dir: store.directory });
  },
});

describeStateStoreConformance('FileStateStore (checkpoint)', () => FileStateStore.open({ dir: tempDir(), durability: 'checkpoint' }), {
  reopen: async (store) => {
    await store.close();
    return FileStateStore.open({ dir: store.directory, durability: 'checkpoint' });
  },
});

describeStateStoreConformance(
  'FileStateStore (journal, compacting often)',
  () => FileStateStore.open({ dir: tempDir(), compactAfterBytes: 256 }),
  {
    reopen: async (store) => {
      await store.close();
      return FileStateStore.open({ dir: store.directory, compactAfterBytes: 256 });
    },
  },
);
