// cockatiel 3.2.1's isIsolatedCircuitError (and isTaskCancelledError) test the
// bulkhead's marker by mistake; these read each error's own marker.

const marked = (value: unknown, marker: string): boolean => value instanceof Error && marker in value;

/** A cockatiel BrokenCircuitError (IsolatedCircuitError included). */
export const isBrokenCircuit = (value: unknown): boolean => marked(value, 'isBrokenCircuitError');

/** A cockatiel IsolatedCircuitError. */
export const isIsolatedCircuit = (value: unknown): boolean => marked(value, 'isIsolatedCircuitError');

/** A cockatiel BulkheadRejectedError. */
export const isBulkheadRejected = (value: unknown): boolean => marked(value, 'isBulkheadRejectedError');

/** A cockatiel TaskCancelledError. */
export const isTaskCancelled = (value: unknown): boolean => marked(value, 'isTaskCancelledError');
