export { Agent } from './agent';
export { AgentEndpoint } from './endpoint';
export { HttpRegistryClient } from './registryClient';
export { PeerClient, RECEIPT_HEADER } from './peerClient';
export { RegistryEventStream } from './registryEvents';
export { MAX_AMOUNT, REGISTRY_EVENT_TYPES, isAmount } from './wire';
export { loadConfig, CONFIG_ENV, LOG_LEVELS } from './config';
export { createLogger, withRequestId, currentRequestId } from './logger';
export { systemClock, sleep } from './clock';
export { DEFAULT_MAX_JSON_DEPTH } from './jsonLimits';
export { answerExpectationsInWireFormat, clientErrorHandler } from './wireErrorServer';
export { RECEIVER_HEADER, SESSION_PATH } from './ports';
export { receiverAuthorities } from './receiverAuthorities';
export { CORE_ERROR_CODES, httpStatusOf, isSovErrorCode, errorCodeOwner, registeredErrorCodes } from './errors/errorCodes';
export { defineErrorCodes } from './errors/defineErrorCodes';
export { SovError, isSovError, hasErrorCode, toSovError, isWireFailure } from './errors/sovError';
export { ValidationError, isValidationError } from './errors/validationError';
export { ConfigError, isConfigError } from './errors/configError';
export { TimeoutError, isTimeoutError } from './errors/timeoutError';
export { CancelledError, isCancelledError, abortErrorOf } from './errors/cancelledError';
export { NetworkError, isNetworkError } from './errors/networkError';
export { RemoteError, isRemoteError } from './errors/remoteError';
export { LifecycleError, isLifecycleError } from './errors/lifecycleError';

export type { AgentOptions, AgentState, CallOptions, CallOutcome, CallQuery, CallTarget, PeerCall, PeerCaller, TargetResolver } from './agent';
export type { AgentContext, Capability, PeerTransport, RegistrationContribution } from './capability';
export type {
  AgentEndpointOptions,
  Check,
  CheckResult,
  EndpointRegistrar,
  EndpointRoute,
  RequestContext,
  RequestHandler,
  RouteReply,
  RouteRequest,
} from './endpoint';
export type { HttpRegistryClientOptions, RegisterResult, RegistryClient } from './registryClient';
export type { PeerCallOptions, PeerClientOptions } from './peerClient';
export type { RegistryEventSubscription, RegistryEventsOptions } from './registryEvents';
export type { AgentConfig, AgentConfigInput, ConfigSources, LogLevel } from './config';
export type { Logger, LoggerOptions } from './logger';
export type { Clock } from './clock';
export type { CoreErrorCode, SovErrorCode, SovErrorCodeMap } from './errors/errorCodes';
export type { SovErrorOptions, WireFailure } from './errors/sovError';
export type { FieldProblem } from './errors/validationError';
export type {
  AgentIdentity,
  ReceiverBinding,
  SessionAuthenticator,
  SessionOffer,
  UnsignedReceipt,
  SignableRequest,
  Signer,
  VerifiableRequest,
  VerifiedCaller,
  Verifier,
} from './ports';
export type {
  AgentRecord,
  AgentRegistration,
  AgentRequest,
  CallReceipt,
  FederatedSearchOutcome,
  FederatedSearchPage,
  FederatedSearchRecord,
  Feedback,
  Lease,
  RegistryEvent,
  RegistryEventType,
  RpcReply,
  SearchPage,
  SearchQuery,
  ServiceListing,
  StakeBalance,
  WireResponse,
  WireSuccess,
} from './wire';
