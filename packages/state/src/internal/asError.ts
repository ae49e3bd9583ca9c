/** The thrown value itself when it is an Error (so callers get what their own code threw), else an Error describing it. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`Non-error thrown: ${String(value)}`);
}
