import { createLogger } from '@sov/core';
import type { RegistryStore } from '@sov/registry';
import { describeRegistryStoreConformance } from '@sov/testing';
import { PostgresRegistryStore } from './postgresRegistryStore';
import { DATABASE_URL, TestSchemas } from './__tests__/testSchema';

const schemas = new TestSchemas();
const schemaOf = new Map<RegistryStore, string>();
const logger = createLogger({ silent: true });

beforeAll(async () => {
  await schemas.client();
});
afterAll(async () => {
  await schemas.dropAll();
});

async function openStore(schema: string): Promise<PostgresRegistryStore> {
  const store = new PostgresRegistryStore({ connectionString: DATABASE_URL, schema, logger, poolSize: 4 });
  await store.open();
  schemaOf.set(store, schema);
  return store;
}

describeRegistryStoreConformance('PostgresRegistryStore', {
  create: () => openStore(schemas.fresh()),
  reopen: async (old) => {
    const schema = schemaOf.get(old)!;
    await old.close();
    return openStore(schema);
  },
});
