export { ServiceRouter, serviceRouter } from './serviceRouter';
export { ServiceMetrics } from './serviceMetrics';
export { BatchProcessor } from './batchProcessor';
export { callCache } from './callCache';

export type {
  ServiceCatalogEntry,
  ServiceRequest,
  ServiceRequestContext,
  ServiceResponse,
  ServiceRouterOptions,
  ServiceSuccess,
} from './serviceRouter';
export type { CacheTerms, JsonSchema, ServiceCacheOptions, ServiceContext, ServiceDefinition, ServiceHandler } from './serviceDefinition';
export type { CallCache, CallCacheOptions, CallCacheStats } from './callCache';
export type { ServiceMetricsOptions, ServiceMetricsSnapshot } from './serviceMetrics';
export type { BatchProcessorOptions } from './batchProcessor';
