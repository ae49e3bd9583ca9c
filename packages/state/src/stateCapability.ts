import type { AgentContext, Capability, CheckResult } from '@sov/core';
import { StateClosedError } from './errors/stateClosedError';
import type { JsonValue, StateStore } from './stateStore';

/**
 * What a state capability hands back from `agent.use()`: the guide's
 * get_state / set_state / update_state, plus delete and the store itself.
 */
export interface StateApi<S extends StateStore = StateStore> {
  /** The value under `key`, or `defaultValue` (undefined when none given). */
  getState<T = JsonValue>(key: string): Promise<T | undefined>;
  getState<T = JsonValue>(key: string, defaultValue: T): Promise<T>;
  /** Stores a copy of `value` (JSON only); resolves once durable. */
  setState(key: string, value: unknown): Promise<void>;
  /** Replaces the value under `key` with `fn(current)` atomically; resolves to the new value. */
  updateState<T = JsonValue>(key: string, fn: (current: T | undefined) => T): Promise<T>;
  /** Removes `key`; resolves to whether it had a value. */
  deleteState(key: string): Promise<boolean>;
  /** The open store (keys, entries, batch ...). Throws STATE_CLOSED before the agent initializes. */
  readonly store: S;
}

/** How a state capability gets and checks its store. */
export interface StateCapabilityOptions<S extends StateStore> {
  /** @default 'state' */
  name?: string;
  /** Opens the store; called at the agent's initialize. */
  open: (context: AgentContext) => S | Promise<S>;
  /** A health check of the open store, added as the agent's health check named after the capability. */
  health?: (store: S) => CheckResult;
}

/**
 * Builds an agent capability around any StateStore: the store is opened at
 * initialize and flushed and closed at shutdown. `fileState()` and
 * `memoryState()` are built with it; use it for a store of your own.
 *
 * @example
 * const state = agent.use(stateCapability({ open: async (ctx) => PostgresStateStore.connect(url, ctx.agentId) }));
 */
export function stateCapability<S extends StateStore>(options: StateCapabilityOptions<S>): Capability<StateApi<S>> {
  const name = options.name ?? 'state';
  let current: S | undefined;
  const store = (): S => {
    if (!current) throw new StateClosedError(`Agent state (capability "${name}") is available once the agent has initialized (await agent.start()) and until it shuts down`);
    return current;
  };
  const getState = async <T>(key: string, defaultValue?: T): Promise<T | undefined> => {
    const value = await store().get<T>(key);
    return value === undefined ? defaultValue : value;
  };
  const api: StateApi<S> = {
    getState,
    setState: async (key, value) => store().set(key, value),
    updateState: async (key, fn) => store().update(key, fn),
    deleteState: async (key) => store().delete(key),
    get store() {
      return store();
    },
  };
  return {
    name,
    api,
    async initialize(ctx) {
      const opened = await options.open(ctx);
      current = opened;
      if (options.health) {
        const health = options.health;
        ctx.endpoint.addHealthCheck(name, () => (current === opened ? health(opened) : { ok: false, detail: 'closed' }));
      }
    },
    async shutdown() {
      const s = current;
      if (!s) return;
      try {
        await s.flush();
      } finally {
        current = undefined;
        await s.close();
      }
    },
  };
}
