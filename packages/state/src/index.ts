export { MemoryStateStore } from './memoryStateStore';
export { FileStateStore } from './fileStateStore';
export { stateCapability } from './stateCapability';
export { fileState } from './fileState';
export { memoryState } from './memoryState';
export { describeStateStoreConformance } from './conformance';
export { NotSerializableError, isNotSerializableError } from './errors/notSerializableError';
export { StateClosedError, isStateClosedError } from './errors/stateClosedError';
export { StateCorruptError, isStateCorruptError } from './errors/stateCorruptError';
export { StateLockedError, isStateLockedError } from './errors/stateLockedError';

export type { JsonValue, StateOperation, StateStore } from './stateStore';
export type { CheckpointInfo, FileStateStoreOptions, RecoveryReport, StateDurability } from './fileStateStore';
export type { StateApi, StateCapabilityOptions } from './stateCapability';
export type { FileStateOptions } from './fileState';
export type { ConformanceRunner, StateStoreConformanceOptions } from './conformance';
