export { FaultyPeer } from './faults/faultyPeer';
export { FaultProxy } from './faults/faultProxy';
export { FaultSchedule } from './faults/fault';

export type { Fault, FaultOptions } from './faults/fault';
export type { FaultyPeerOptions } from './faults/faultyPeer';
export type { FaultProxyOptions } from './faults/faultProxy';
export { MockRegistry } from './mockRegistry';
export { TestRegistry } from './testRegistry';
export { describeRegistryStoreConformance, storedAgent } from './registryStoreConformance';
export { freePort } from './freePort';
// One implementation, in core's fenced subpath: core, crypto, state and the
// registry (which this package depends on) test with the same clock.
export { agentRecord, ManualClock, waitFor } from '@sov/core/internal';

export type { MockRegistryCall, MockRegistryOptions } from './mockRegistry';
export type { TestRegistryOptions } from './testRegistry';
export type { ConformanceTestApi } from './registryStoreConformance';
export type { ManualClockOptions, WaitForOptions } from '@sov/core/internal';
