import type { Logger } from '@sov/core';

/** A logger that writes nothing: the default of a store given none. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};
