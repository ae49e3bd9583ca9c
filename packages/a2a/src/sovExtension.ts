/** The A2A extension by which a Sovereign agent's card carries what A2A has no field for. */

/** A JSON Schema, as the service router reads it. */
export type A2aJsonSchema = boolean | { readonly [keyword: string]: unknown };

/**
 * The URI of the Sovereign extension in `capabilities.extensions` of a card.
 * Its `params` are a {@link SovCardExtension}; clients that do not know it
 * ignore it (it is never `required`).
 */
export const SOV_EXTENSION_URI = 'urn:sov:a2a:agent:v1';

/** A service's terms, as the card's extension lists them (by skill id). */
export interface SovSkillTerms {
  /** Price per call, whole minor units. */
  price?: number;
  requiresStake?: boolean;
  /** Stake a caller needs, whole minor units. */
  minStake?: number;
  inputSchema?: A2aJsonSchema;
  outputSchema?: A2aJsonSchema;
  /** The service always runs as a task (submitted, working, completed) and may report progress. */
  task?: boolean;
}

/** The `params` of the Sovereign extension. */
export interface SovCardExtension {
  /** The agent's id (a did:key): its RFC 9421 signatures and the card's JWS verify with it. */
  did?: string;
  /** The agent's own endpoint (`POST /rpc`), for Sovereign callers. */
  endpoint: string;
  /** How a client names the skill it calls: the message metadata key. */
  skillMetadataKey: 'skill';
  services: Record<string, SovSkillTerms>;
}
