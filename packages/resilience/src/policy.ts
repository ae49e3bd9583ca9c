/** What a policy hands the work it runs. */
export interface ExecutionContext {
  /** Aborted when the work should stop: a timeout fired or the caller gave up. Pass it on to fetch, ky, PeerClient ... */
  signal: AbortSignal;
}

/** The work a policy runs. */
export type Work<T> = (context: ExecutionContext) => T | Promise<T>;

/** A resilience policy: runs work and decides what happens when it fails. Compose several with `wrap()`. */
export interface Policy {
  /**
   * Runs `fn` under this policy.
   * @param signal the caller's signal; aborting it cancels the work and the policy
   */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T>;
}

/** Removes a listener added by an `onX(listener)` subscription. */
export type Dispose = () => void;
