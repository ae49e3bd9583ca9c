import type { Capability } from '@sov/core';
import { MemoryStateStore } from './memoryStateStore';
import { stateCapability, type StateApi } from './stateCapability';

/**
 * Agent state in memory only (lost when the process ends): for tests and
 * throwaway agents. Same API as `fileState()`.
 *
 * @example
 * const state = agent.use(memoryState());
 * await agent.start();
 * await state.setState('mode', 'test');
 */
export function memoryState(options: { name?: string } = {}): Capability<StateApi<MemoryStateStore>> {
  return stateCapability<MemoryStateStore>({ ...options, open: () => new MemoryStateStore() });
}
