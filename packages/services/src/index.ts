export { ServiceRouter, serviceRouter } from './serviceRouter';
export { ServiceMetrics } from './serviceMetrics';
export { BatchProcessor } from './batchProcessor';

export type {
  ServiceCatalogEntry,
  ServiceRequest,
  ServiceRequestContext,
  ServiceResponse,
  ServiceRouterOptions,
  ServiceSuccess,
} from './serviceRouter';
export type { JsonSchema, ServiceContext, ServiceDefinition, ServiceHandler } from './serviceDefinition';
export type { ServiceMetricsOptions, ServiceMetricsSnapshot } from './serviceMetrics';
export type { BatchProcessorOptions } from './batchProcessor';
