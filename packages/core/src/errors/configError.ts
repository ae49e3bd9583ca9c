import { isSovError, SovError } from './sovError';

/** A configuration value that is missing or has the wrong shape. Names the field, its source and the expected shape. */
export class ConfigError extends SovError {
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super('INVALID_CONFIG', `Invalid config ${field}: ${message}`, { ...options, details: { field } });
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** Whether a value is a ConfigError. */
export function isConfigError(value: unknown): value is ConfigError {
  return value instanceof ConfigError || (isSovError(value) && value.name === 'ConfigError');
}
