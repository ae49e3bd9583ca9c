/**
 * `@sov/core/internal`: plumbing that the SDK's own packages share.
 *
 * NOT PUBLIC API: anything here may change or go away in any release, patch
 * releases included, without a changeset entry that says so. Import it only
 * from a `@sov/*` package of the same release; applications use `@sov/core`.
 *
 * It is built with the main entry as one set of chunks (tsup `splitting`, ESM
 * and CJS), so a class here and the same class behind `@sov/core` are one.
 *
 * @packageDocumentation
 */
export { CollectedMetric } from './collectedMetric';
export { RequestMetrics } from './requestMetrics';
export { DeadlineQueue } from './deadlineQueue';
export { receiptPayload } from './ports';
export { jsonDepthProblem } from './jsonLimits';
export { searchQueryString } from './registryClient';
// The agent endpoint's and the registry's one body reader and Retry-After.
export { parseJsonBody, retryAfterHeader } from './internal/requestWire';
// Test tools, public through @sov/testing; here so that core, crypto, state and
// registry (which @sov/testing depends on) test with the same ones.
export { ManualClock } from './internal/manualClock';
export { waitFor } from './internal/waitFor';
export { agentRecord } from './internal/agentRecord';
export { MAX_PROBLEMS, ajvProblems, capProblems, createAjv, pointerSegment } from './internal/ajvSetup';
// The guide's service score: @sov/federation exports it, the registry ranks its federated search with it.
export { DEFAULT_SCORE_WEIGHTS, serviceScore, servicePrice } from './internal/serviceScore';

export type { MetricSample } from './collectedMetric';
export type { RequestMetricsOptions } from './requestMetrics';
export type { DeadlineEntry } from './deadlineQueue';
export type { JsonLimitProblem } from './jsonLimits';
export type { ManualClockOptions } from './internal/manualClock';
export type { WaitForOptions } from './internal/waitFor';
export type { ScoreWeights } from './internal/serviceScore';
