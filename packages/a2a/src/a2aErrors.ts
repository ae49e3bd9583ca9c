import type { SovErrorCode } from '@sov/core';

/**
 * The JSON-RPC error codes of A2A v1.0 (and JSON-RPC 2.0's own), as the
 * official SDK maps them to its error classes.
 */
export const A2A_ERROR_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  TASK_NOT_FOUND: -32001,
  TASK_NOT_CANCELABLE: -32002,
  PUSH_NOTIFICATION_NOT_SUPPORTED: -32003,
  UNSUPPORTED_OPERATION: -32004,
  CONTENT_TYPE_NOT_SUPPORTED: -32005,
  INVALID_AGENT_RESPONSE: -32006,
} as const;

/** Our codes that mean the request itself was wrong: answered with -32602 (invalid params). */
const PARAMS_CODES = new Set<string>(['INVALID_INPUT', 'INVALID_JSON', 'SERVICE_NAME_MISSING', 'SERVICE_NOT_FOUND', 'INVALID_AMOUNT']);

/** The JSON-RPC code that carries one of our error codes (the code itself travels in `error.data.code`). */
export function jsonRpcCodeOf(code: string): number {
  return PARAMS_CODES.has(code) ? A2A_ERROR_CODES.INVALID_PARAMS : A2A_ERROR_CODES.INTERNAL_ERROR;
}

/** Our error code for a JSON-RPC error from an agent that did not name one (a plain A2A agent). */
export function sovCodeOfJsonRpc(code: number): SovErrorCode {
  switch (code) {
    case A2A_ERROR_CODES.INVALID_PARAMS:
    case A2A_ERROR_CODES.INVALID_REQUEST:
    case A2A_ERROR_CODES.PARSE_ERROR:
    case A2A_ERROR_CODES.CONTENT_TYPE_NOT_SUPPORTED:
      return 'INVALID_INPUT';
    case A2A_ERROR_CODES.METHOD_NOT_FOUND:
    case A2A_ERROR_CODES.UNSUPPORTED_OPERATION:
      return 'SERVICE_NOT_FOUND';
    case A2A_ERROR_CODES.TASK_NOT_FOUND:
      return 'NOT_FOUND';
    case A2A_ERROR_CODES.TASK_NOT_CANCELABLE:
      return 'CONFLICT';
    default:
      return 'REMOTE_ERROR';
  }
}
