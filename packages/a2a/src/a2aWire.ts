/**
 * The A2A v1.0 JSON that crosses the wire (JSON-RPC binding, protobuf JSON
 * names), as the official `@a2a-js/sdk` 1.x sends and reads it: enums are
 * their names (`TASK_STATE_WORKING`, `ROLE_USER`), a part is `{ text }`,
 * `{ data }`, `{ url }` or `{ raw }`, and fields at their default are left out.
 */

/** A task's lifecycle state. */
export type A2aTaskState =
  | 'TASK_STATE_SUBMITTED'
  | 'TASK_STATE_WORKING'
  | 'TASK_STATE_COMPLETED'
  | 'TASK_STATE_FAILED'
  | 'TASK_STATE_CANCELED'
  | 'TASK_STATE_INPUT_REQUIRED'
  | 'TASK_STATE_REJECTED'
  | 'TASK_STATE_AUTH_REQUIRED';

/** The states after which a task never changes. */
export const TERMINAL_TASK_STATES: ReadonlySet<A2aTaskState> = new Set<A2aTaskState>([
  'TASK_STATE_COMPLETED',
  'TASK_STATE_FAILED',
  'TASK_STATE_CANCELED',
  'TASK_STATE_REJECTED',
]);

/** One piece of a message or artifact: exactly one of text, data, url or raw. */
export interface A2aPart {
  text?: string;
  /** Any JSON value: a service's params or result. */
  data?: unknown;
  url?: string;
  /** Base64 bytes. */
  raw?: string;
  mediaType?: string;
  filename?: string;
  metadata?: Record<string, unknown>;
}

/** A message between a client (ROLE_USER) and an agent (ROLE_AGENT). */
export interface A2aMessage {
  messageId: string;
  role: 'ROLE_USER' | 'ROLE_AGENT';
  parts: A2aPart[];
  contextId?: string;
  taskId?: string;
  metadata?: Record<string, unknown>;
  extensions?: string[];
  referenceTaskIds?: string[];
}

/** A task's current state, with an optional message (progress, an error). */
export interface A2aTaskStatus {
  state: A2aTaskState;
  message?: A2aMessage;
  /** ISO 8601. */
  timestamp?: string;
}

/** An output of a task. */
export interface A2aArtifact {
  artifactId: string;
  name?: string;
  description?: string;
  parts: A2aPart[];
  metadata?: Record<string, unknown>;
}

/** A unit of work the agent tracks: GetTask and CancelTask name it by id. */
export interface A2aTask {
  id: string;
  contextId: string;
  status: A2aTaskStatus;
  artifacts?: A2aArtifact[];
  history?: A2aMessage[];
  metadata?: Record<string, unknown>;
}

/** A change of a task's status, streamed. */
export interface A2aTaskStatusUpdateEvent {
  taskId: string;
  contextId: string;
  status: A2aTaskStatus;
  metadata?: Record<string, unknown>;
}

/** An artifact of a task, streamed. */
export interface A2aTaskArtifactUpdateEvent {
  taskId: string;
  contextId: string;
  artifact: A2aArtifact;
  append?: boolean;
  lastChunk?: boolean;
}

/** What SendMessage answers: a task or a message. */
export type A2aSendMessageResult = { task: A2aTask } | { message: A2aMessage };

/** One event of SendStreamingMessage. */
export type A2aStreamEvent =
  | { task: A2aTask }
  | { message: A2aMessage }
  | { statusUpdate: A2aTaskStatusUpdateEvent }
  | { artifactUpdate: A2aTaskArtifactUpdateEvent };

/** The params of SendMessage and SendStreamingMessage. */
export interface A2aSendMessageParams {
  message: A2aMessage;
  configuration?: {
    /** Answer at once with the task instead of waiting for it to finish. @default false */
    returnImmediately?: boolean;
    acceptedOutputModes?: string[];
    historyLength?: number;
  };
  metadata?: Record<string, unknown>;
}

/** One protocol binding of an agent. */
export interface A2aAgentInterface {
  url: string;
  /** 'JSONRPC', 'HTTP+JSON' or 'GRPC'. */
  protocolBinding: string;
  protocolVersion?: string;
  tenant?: string;
}

/** An A2A protocol extension an agent supports. */
export interface A2aAgentExtension {
  uri: string;
  description?: string;
  required?: boolean;
  params?: Record<string, unknown>;
}

/** A skill on an agent card. */
export interface A2aAgentSkill {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples?: string[];
  inputModes?: string[];
  outputModes?: string[];
}

/** A JWS (RFC 7515, flattened JSON) over the card's canonical form. */
export interface A2aAgentCardSignature {
  /** Base64url of the protected header (alg, kid, typ). */
  protected: string;
  /** Base64url signature. */
  signature: string;
  header?: Record<string, unknown>;
}

/** An A2A agent card, served at `/.well-known/agent-card.json`. */
export interface A2aAgentCard {
  name: string;
  description: string;
  version: string;
  supportedInterfaces: A2aAgentInterface[];
  capabilities: { streaming?: boolean; pushNotifications?: boolean; extendedAgentCard?: boolean; extensions?: A2aAgentExtension[] };
  defaultInputModes: string[];
  defaultOutputModes: string[];
  skills: A2aAgentSkill[];
  provider?: { organization: string; url: string };
  documentationUrl?: string;
  iconUrl?: string;
  securitySchemes?: Record<string, unknown>;
  securityRequirements?: unknown[];
  signatures?: A2aAgentCardSignature[];
}

/** A JSON-RPC 2.0 error object. */
export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}
