/**
 * What `sov` exits with. Scripts can tell a refusal by the registry or a peer
 * (1) from a mistake on the command line (2) and from a registry that did
 * not answer at all (3).
 */
export const EXIT_CODES = {
  /** Done. */
  OK: 0,
  /** The registry or a peer refused or failed the operation (the wire code is printed), or a local file could not be used. */
  FAILED: 1,
  /** Bad arguments: unknown option, missing argument, a value of the wrong shape. Nothing was sent. */
  USAGE: 2,
  /** The registry did not answer (refused, reset, timed out). */
  UNREACHABLE: 3,
} as const;

/** One of the exit codes of `sov`. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
