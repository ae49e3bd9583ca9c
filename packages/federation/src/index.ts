export { federation } from './federation';
export { DEFAULT_SCORE_WEIGHTS, serviceScore, servicePrice } from './serviceScore';
export { verifyRouteReceipt } from '@sov/crypto';

export type {
  CrossRegistryResult,
  FederatedMatch,
  FederatedSearchPage,
  FederationApi,
  FederationOptions,
  RegistryHop,
  RegistrySearchOutcome,
  ServiceRequirements,
  TransactionOptions,
} from './federation';
export type { ScoreWeights } from './serviceScore';
export type { RegistryLinkStatus } from './internal/registryLink';
export type { FederatedAnswer, FederatedOperation, FederatedOutcome, FederatedRequest, RouteHop, RouteReceipt, RouteVerdict } from '@sov/crypto';
