/**
 * The signal handed to work when the caller gave none. Shared, and known by
 * identity, so that a policy never listens on it: thousands of calls in flight
 * would otherwise pile their listeners on one signal.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
