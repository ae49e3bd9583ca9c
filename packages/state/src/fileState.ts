import type { Capability, Logger, Clock } from '@sov/core';
import { FileStateStore, type FileStateStoreOptions } from './fileStateStore';
import { stateCapability, type StateApi } from './stateCapability';

/** Options of the fileState capability: those of a FileStateStore, all optional. */
export interface FileStateOptions extends Omit<FileStateStoreOptions, 'dir' | 'namespace' | 'logger' | 'clock'> {
  /** The state directory. @default './agent_state' */
  dir?: string;
  /**
   * The store's sub-directory. @default the agent id; for an agent with no
   * identity and no configured agentId (whose id changes at every start),
   * the agent's name
   */
  namespace?: string;
  /** @default the agent's logger */
  logger?: Logger;
  /** @default the agent's clock */
  clock?: Clock;
  /** The capability's name. @default 'state' */
  name?: string;
}

/**
 * Agent state in files that survives crashes and restarts: a FileStateStore
 * namespaced by the agent id, opened at initialize, flushed and closed at
 * shutdown. Journal durability by default: a write resolves once on disk.
 * Adds a health check (named after the capability) that fails while the
 * disk refuses writes; values are bounded by `limits`.
 *
 * @example
 * const state = agent.use(fileState({ dir: './agent_state' }));
 * await agent.start();
 * await state.updateState<number>('requests', (n) => (n ?? 0) + 1);
 * const count = await state.getState('requests', 0);
 */
export function fileState(options: FileStateOptions = {}): Capability<StateApi<FileStateStore>> {
  const { name, namespace, logger, clock, dir, ...storeOptions } = options;
  return stateCapability<FileStateStore>({
    ...(name === undefined ? {} : { name }),
    open: async (ctx) => {
      const log = logger ?? ctx.logger.child({ capability: name ?? 'state' });
      let ns = namespace;
      if (ns === undefined) {
        const stableId = ctx.identity !== undefined || ctx.config.agentId !== undefined;
        ns = stableId ? ctx.agentId : ctx.config.name;
        if (!stableId) log.warn('agent has no identity or configured agentId; its state is namespaced by its name', { namespace: ns });
      }
      return FileStateStore.open({ ...storeOptions, dir: dir ?? './agent_state', namespace: ns, logger: log, clock: clock ?? ctx.clock });
    },
    // Not ok while the disk refuses writes or snapshots; `detail` names the failure.
    health: (store) => {
      const { ok, detail } = store.health();
      return { ok, detail };
    },
  });
}
