import type { Logger } from '@sov/core';

/** A logger that records every line, for asserting on what a store said. */
export interface RecordingLogger extends Logger {
  lines: Array<{ level: 'error' | 'warn' | 'info' | 'debug'; message: string; meta: Record<string, unknown> | undefined }>;
  messages(level: 'error' | 'warn' | 'info' | 'debug'): string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const logger: RecordingLogger = {
    lines,
    error: (message, meta) => void lines.push({ level: 'error', message, meta }),
    warn: (message, meta) => void lines.push({ level: 'warn', message, meta }),
    info: (message, meta) => void lines.push({ level: 'info', message, meta }),
    debug: (message, meta) => void lines.push({ level: 'debug', message, meta }),
    child: () => logger,
    messages: (level) => lines.filter((l) => l.level === level).map((l) => l.message),
  };
  return logger;
}
