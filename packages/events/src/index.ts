export { EventBus } from './eventBus';
export { events } from './events';
export { EventDrivenAgent } from './eventDrivenAgent';
export { RegistrySubscription, registryEventId } from './registrySubscription';
export { EVENTS_ERROR_CODES } from './errors/eventsErrorCodes';
export { QueueFullError, isQueueFullError } from './errors/queueFullError';

export type { EventsErrorCode } from './errors/eventsErrorCodes';
export type { EmitOptions, EventBusOptions } from './eventBus';
export type { DurableOption, EventsApi, EventsOptions } from './events';
export type { EventDrivenAgentOptions } from './eventDrivenAgent';
export type { RegistrySubscriptionHandle, RegistrySubscriptionOptions } from './registrySubscription';
export type {
  AgentEvent,
  BuiltinEvents,
  EventHandler,
  EventMap,
  EventStats,
  HandlerContext,
  HandlerErrorData,
  HandlerOptions,
  OverflowPolicy,
  RegistryEventData,
  RequestCompletedData,
  RequestFailedData,
  RequestReceivedData,
  StopReport,
} from './types';
