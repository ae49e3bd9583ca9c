import { SovError } from '../errors/sovError';
import { ValidationError } from '../errors/validationError';
import { jsonDepthProblem } from '../jsonLimits';

/**
 * What the SDK's two HTTP servers, the agent endpoint (node:http) and the
 * registry (fastify), share about reading a request and answering a refusal:
 * one JSON body reader and one Retry-After, so both answer the same input
 * with the same error.
 */

/** Longest JSON pointer a depth refusal names: a path of long keys is cut, so the answer stays small. */
const MAX_POINTER_SHOWN = 200;

/**
 * A request body parsed as JSON with its nesting measured, before anything
 * recursive (ajv, a size check, a store, `JSON.stringify` of a reply) touches
 * it. Text that does not parse is refused with 400 INVALID_JSON; a value
 * nested deeper than `maxDepth` with 400 INVALID_INPUT naming the first place
 * that is too deep. An empty body is the caller's to refuse or allow.
 *
 * @example
 * const body = parseJsonBody(raw, DEFAULT_MAX_JSON_DEPTH);
 */
export function parseJsonBody(raw: Buffer, maxDepth: number): unknown {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw new SovError('INVALID_JSON', `Request body is not valid JSON: ${(cause as Error).message}`);
  }
  const deep = jsonDepthProblem(body, maxDepth);
  if (deep) {
    const where = deep.path.length > MAX_POINTER_SHOWN ? `${deep.path.slice(0, MAX_POINTER_SHOWN)}...` : deep.path || '/';
    throw new ValidationError('request body', [{ path: where, message: deep.reason }]);
  }
  return body;
}

/**
 * The Retry-After header (whole seconds, at least 1) that goes with a refusal
 * whose details carry `retryAfterMs` (RATE_LIMITED, OVERLOADED ...), or
 * undefined when it carries none.
 */
export function retryAfterHeader(error: SovError): string | undefined {
  const retryAfterMs = (error.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof retryAfterMs === 'number' ? String(Math.max(1, Math.ceil(retryAfterMs / 1000))) : undefined;
}
