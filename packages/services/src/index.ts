export { ServiceRouter, serviceRouter } from './serviceRouter';
export { ServiceMetrics } from './serviceMetrics';
export { BatchProcessor } from './batchProcessor';
export { callCache } from './callCache';
export { defineService } from './serviceSchema';
export { serviceClient } from './serviceClient';
export { SERVICES_ERROR_CODES } from './errors/servicesErrorCodes';

export type {
  ServiceCatalogEntry,
  ServiceRequest,
  ServiceRequestContext,
  ServiceResponse,
  ServiceRouterOptions,
  ServiceSuccess,
} from './serviceRouter';
export type { CacheTerms, HandlerParams, HandlerResult, ServiceCacheOptions, ServiceContext, ServiceDefinition, ServiceHandler } from './serviceDefinition';
export type {
  CatalogJsonSchemas,
  InferSchemaInput,
  InferSchemaOutput,
  JsonSchema,
  ServiceContract,
  ServiceParams,
  ServiceResult,
  ServiceSchema,
} from './serviceSchema';
export type { ServicesErrorCode } from './errors/servicesErrorCodes';
export type { ServiceCallArgs, ServiceCaller, ServiceClient } from './serviceClient';
export type { CallCache, CallCacheOptions, CallCacheStats } from './callCache';
export type { ServiceMetricsOptions, ServiceMetricsSnapshot } from './serviceMetrics';
export type { BatchProcessorOptions } from './batchProcessor';
