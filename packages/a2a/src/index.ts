export { a2a } from './a2a';
export { A2aClient, AGENT_CARD_PATH, partsValue, sovExtensionOf } from './a2aClient';
export { A2A_ERROR_CODES, jsonRpcCodeOf, sovCodeOfJsonRpc } from './a2aErrors';
export { TERMINAL_TASK_STATES } from './a2aWire';
export { SOV_EXTENSION_URI } from './sovExtension';
export { canonicalCard } from './canonicalCard';

export type { A2aApi, A2aOptions, A2aServiceCatalog, A2aServiceEntry } from './a2a';
export type { A2aCallOptions, A2aClientEvent, A2aClientOptions } from './a2aClient';
export type { A2aProgress } from './internal/taskBook';
export type { A2aJsonSchema, SovCardExtension, SovSkillTerms } from './sovExtension';
export type {
  A2aAgentCard,
  A2aAgentCardSignature,
  A2aAgentExtension,
  A2aAgentInterface,
  A2aAgentSkill,
  A2aArtifact,
  A2aMessage,
  A2aPart,
  A2aSendMessageParams,
  A2aSendMessageResult,
  A2aStreamEvent,
  A2aTask,
  A2aTaskArtifactUpdateEvent,
  A2aTaskState,
  A2aTaskStatus,
  A2aTaskStatusUpdateEvent,
  JsonRpcError,
} from './a2aWire';
