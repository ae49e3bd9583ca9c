export { RetryPolicy } from './retryPolicy';
export { CircuitBreaker } from './circuitBreaker';
export { TimeoutPolicy } from './timeoutPolicy';
export { Bulkhead } from './bulkhead';
export { Fallback } from './fallback';
export { PolicyStack, wrap } from './policyStack';
export { isRetryable, retryAfterOf } from './isRetryable';
export { CircuitOpenError, isCircuitOpenError } from './errors/circuitOpenError';
export { BulkheadRejectedError, isBulkheadRejectedError } from './errors/bulkheadRejectedError';
export { RateLimitedError, isRateLimitedError } from './errors/rateLimitedError';
export { ErrorHandler, ErrorSeverity } from './errorHandler';
export { RateLimiter } from './rateLimiter';
export { rateLimitGuard } from './rateLimitGuard';
export { HealthMonitor } from './healthMonitor';
export { registryCheck, eventLoopLagCheck, memoryCheck, queueDepthCheck, lastSuccessCheck } from './healthChecks';
export { ResilientRegistryClient } from './resilientRegistryClient';
export { resilience } from './resilience';
export { ResilientAgent } from './resilientAgent';

export type { Dispose, ExecutionContext, Policy, Work } from './policy';
export type { RetryContext, RetryEvent, RetryPolicyOptions } from './retryPolicy';
export type { BreakEvent, CircuitBreakerOptions, CircuitBreakerState } from './circuitBreaker';
export type { TimeoutPolicyOptions } from './timeoutPolicy';
export type { BulkheadOptions } from './bulkhead';
export type { FallbackOptions } from './fallback';
export type { PolicyStackOptions } from './policyStack';
export type {
  CircuitBreakEvent,
  ErrorClass,
  ErrorContext,
  ErrorHandlerOptions,
  ErrorOutcome,
  ErrorRegistration,
} from './errorHandler';
export type { RateLimitDecision, RateLimiterOptions } from './rateLimiter';
export type { RateLimitGuardOptions } from './rateLimitGuard';
export type {
  CheckStatus,
  HealthAffects,
  HealthCheck,
  HealthCheckResult,
  HealthMonitorOptions,
  HealthReport,
} from './healthMonitor';
export type { CallPeerOptions, ResilienceApi, ResilienceHealthOptions, ResilienceOptions } from './resilience';
export type { ResilientAgentOptions } from './resilientAgent';
