import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';
import type { LogLevel } from './config';

/** The logger every part of an agent writes to. */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** A logger whose lines all carry `meta`. */
  child(meta: Record<string, unknown>): Logger;
}

interface RequestScope {
  requestId: string;
}

const requestScope = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` with a request id that every log line written inside it carries. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestScope.run({ requestId }, fn);
}

/** The request id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

const addRequestId = winston.format((info) => {
  const id = requestScope.getStore()?.requestId;
  if (id !== undefined && info.requestId === undefined) info.requestId = id;
  return info;
});

/** Where log lines go. */
export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** Fields every line carries (agent id, name ...). */
  meta?: Record<string, unknown>;
  /** A writable stream for the JSON lines. @default process.stdout */
  stream?: NodeJS.WritableStream;
  /** Write nothing (tests). @default false */
  silent?: boolean;
}

/**
 * Creates a winston logger writing one JSON object a line, with timestamp,
 * level, message, the given fields and, inside a request, its request id.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: options.meta ?? {},
    silent: options.silent ?? false,
    format: winston.format.combine(addRequestId(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout })],
  });
}
