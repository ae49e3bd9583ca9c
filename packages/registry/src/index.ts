export { RegistryServer } from './registryServer';
export { MemoryRegistryStore } from './memoryRegistryStore';

export type { RegistryEvent, RegistryServerOptions } from './registryServer';
export type { RegistryStore } from './registryStore';
