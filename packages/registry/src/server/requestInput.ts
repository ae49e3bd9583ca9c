import type { ValidateFunction } from 'ajv';
import type { FastifyRequest } from 'fastify';
import { SovError, ValidationError } from '@sov/core';
import { ajvProblems, createAjv, parseJsonBody } from '@sov/core/internal';
import {
  agentRequestSchema,
  feedbackSchema,
  metadataSchema,
  registrationSchema,
  searchSchema,
  stakeChangeSchema,
} from '../internal/schemas';

/** The registry's inputs that have a schema. */
export type RegistryInput = 'registration' | 'metadata' | 'search' | 'stake' | 'feedback' | 'request';

/** The limits a RequestInput holds requests to. */
export interface RequestInputLimits {
  /** Longest lease a registration may ask for, in seconds. */
  maxTtlSec: number;
  /** Deepest nesting of a request body. */
  maxJsonDepth: number;
  /** Largest metadata object, serialised, in bytes. */
  maxMetadataBytes: number;
}

/**
 * Reads and checks what a request brings: its JSON body (depth-checked, as
 * core's agent endpoint reads one), each input against its schema (compiled
 * once, here), and the size of metadata. Each refusal is a 400 with a stable
 * code that names the field.
 */
export class RequestInput {
  private readonly validate: Record<RegistryInput, ValidateFunction>;

  constructor(private readonly limits: RequestInputLimits) {
    const ajv = createAjv();
    this.validate = {
      registration: ajv.compile(registrationSchema(limits.maxTtlSec)),
      metadata: ajv.compile(metadataSchema),
      search: ajv.compile(searchSchema),
      stake: ajv.compile(stakeChangeSchema),
      feedback: ajv.compile(feedbackSchema),
      request: ajv.compile(agentRequestSchema),
    };
  }

  /** The request's body, parsed and depth-checked before the schema, the size check or the store (each of them recurses). */
  body(req: FastifyRequest): unknown {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (raw.length === 0) throw new SovError('INVALID_INPUT', 'Request body is empty; expected a JSON object');
    return parseJsonBody(raw, this.limits.maxJsonDepth);
  }

  /** `value` if it meets the schema of `which`; a ValidationError for `what` naming every bad field otherwise. */
  check<T>(which: RegistryInput, what: string, value: unknown): T {
    const v = this.validate[which];
    if (!v(value)) throw new ValidationError(what, ajvProblems(v.errors));
    return value as T;
  }

  /** Refuses metadata larger, serialised, than maxMetadataBytes. */
  metadataSize(metadata: Record<string, unknown> | undefined): void {
    if (!metadata) return;
    const size = Buffer.byteLength(JSON.stringify(metadata));
    if (size > this.limits.maxMetadataBytes) {
      throw new ValidationError('metadata', [{ path: '/metadata', message: `is ${size} bytes; the limit is ${this.limits.maxMetadataBytes}` }]);
    }
  }
}
