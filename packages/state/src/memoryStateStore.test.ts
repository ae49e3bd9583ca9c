import { describeStateStoreConformance } from './conformance';
import { MemoryStateStore } from './memoryStateStore';

describeStateStoreConformance('MemoryStateStore', () => new MemoryStateStore());
