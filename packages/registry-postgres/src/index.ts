export { PostgresRegistryStore } from './postgresRegistryStore';

export type { PostgresRegistryStoreOptions } from './postgresRegistryStore';
