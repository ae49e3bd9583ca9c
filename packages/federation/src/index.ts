export { federation } from './federation';
// The guide's score lives in @sov/core/internal, so that the registry ranks its federated search with the same one.
export { DEFAULT_SCORE_WEIGHTS, serviceScore, servicePrice } from '@sov/core/internal';
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
export type { ScoreWeights } from '@sov/core/internal';
export type { RegistryLinkStatus } from './internal/registryLink';
export type { FederatedAnswer, FederatedOperation, FederatedOutcome, FederatedRequest, RouteHop, RouteReceipt, RouteVerdict } from '@sov/crypto';
