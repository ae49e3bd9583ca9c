import type { Capability } from '@sov/core';
import { MemoryStateStore, type MemoryStateStoreOptions } from './memoryStateStore';
import { stateCapability, type StateApi } from './stateCapability';

/** Options of the memoryState capability: those of a MemoryStateStore, and a name. */
export interface MemoryStateOptions extends MemoryStateStoreOptions {
  /** The capability's name. @default 'state' */
  name?: string;
}

/**
 * Agent state in memory only (lost when the process ends): for tests and
 * throwaway agents. Same API as `fileState()`.
 *
 * @example
 * const state = agent.use(memoryState());
 * await agent.start();
 * await state.setState('mode', 'test');
 */
export function memoryState(options: MemoryStateOptions = {}): Capability<StateApi<MemoryStateStore>> {
  const { name, ...storeOptions } = options;
  return stateCapability<MemoryStateStore>({ ...(name === undefined ? {} : { name }), open: () => new MemoryStateStore(storeOptions) });
}
