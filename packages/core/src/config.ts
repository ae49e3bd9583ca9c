import { readFile } from 'node:fs/promises';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ConfigError } from './errors/configError';
import { ajvProblems, createAjv } from './internal/ajvSetup';

/** Log levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An agent's validated configuration. */
export interface AgentConfig {
  /** Human-readable name, published in the registry. */
  name: string;
  /** Agent id when there is no identity; derived from the key when there is. */
  agentId?: string;
  /** Registry base URL; without one the agent runs standalone. */
  registryUrl?: string;
  /** Interface the endpoint binds. @default '127.0.0.1' */
  host: string;
  /** Port the endpoint binds; 0 picks a free one. @default 0 */
  port: number;
  /** URL to publish instead of the bound one (behind a proxy or in a container). */
  publicUrl?: string;
  /** @default 'info' */
  logLevel: LogLevel;
  /** Registry lease length in seconds. @default 30 */
  leaseTtlSec: number;
  /** Heartbeat period in ms. @default a third of the lease */
  heartbeatIntervalMs: number;
  /** Time budget of each registry call in ms. @default 5000 */
  requestTimeoutMs: number;
  /** Longest a graceful shutdown may take in ms. @default 10000 */
  shutdownTimeoutMs: number;
  /** Largest request body the endpoint accepts, in bytes. @default 1048576 */
  bodyLimit: number;
  /** Capabilities published in the registry record. @default [] */
  capabilities: string[];
  /** Extra public metadata published in the registry record. @default {} */
  metadata: Record<string, unknown>;
  /** Accept unsigned calls on the endpoint when the agent verifies signatures. @default false */
  allowAnonymous: boolean;
}

/** What a user may pass; everything but the name has a default. */
export type AgentConfigInput = Partial<AgentConfig>;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host', 'port', 'logLevel', 'leaseTtlSec', 'requestTimeoutMs', 'shutdownTimeoutMs', 'bodyLimit'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._:-]*$' },
    agentId: { type: 'string', minLength: 1, maxLength: 256 },
    registryUrl: { type: 'string', pattern: '^https?://[^\\s/]+' },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    publicUrl: { type: 'string', pattern: '^https?://[^\\s/]+' },
    logLevel: { enum: LOG_LEVELS },
    leaseTtlSec: { type: 'integer', minimum: 1, maximum: 86400 },
    heartbeatIntervalMs: { type: 'integer', minimum: 10 },
    requestTimeoutMs: { type: 'integer', minimum: 1 },
    shutdownTimeoutMs: { type: 'integer', minimum: 1 },
    bodyLimit: { type: 'integer', minimum: 1024 },
    capabilities: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 128 } },
    metadata: { type: 'object' },
    allowAnonymous: { type: 'boolean' },
  },
} as const;

// Compiled on first use, not at import: importing the kernel stays cheap.
let validateConfig: ValidateFunction | undefined;

/** The environment variable that sets each field. */
export const CONFIG_ENV: Record<keyof AgentConfig, string> = {
  name: 'SOV_NAME',
  agentId: 'SOV_AGENT_ID',
  registryUrl: 'SOV_REGISTRY_URL',
  host: 'SOV_HOST',
  port: 'SOV_PORT',
  publicUrl: 'SOV_PUBLIC_URL',
  logLevel: 'SOV_LOG_LEVEL',
  leaseTtlSec: 'SOV_LEASE_TTL_SEC',
  heartbeatIntervalMs: 'SOV_HEARTBEAT_INTERVAL_MS',
  requestTimeoutMs: 'SOV_REQUEST_TIMEOUT_MS',
  shutdownTimeoutMs: 'SOV_SHUTDOWN_TIMEOUT_MS',
  bodyLimit: 'SOV_BODY_LIMIT',
  capabilities: 'SOV_CAPABILITIES',
  metadata: 'SOV_METADATA',
  allowAnonymous: 'SOV_ALLOW_ANONYMOUS',
};

const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  logLevel: 'info',
  leaseTtlSec: 30,
  requestTimeoutMs: 5000,
  shutdownTimeoutMs: 10000,
  bodyLimit: 1024 * 1024,
  capabilities: [],
  metadata: {},
  allowAnonymous: false,
} satisfies Partial<AgentConfig>;

type Source = 'option' | 'env' | 'file' | 'default';

/** Where configuration comes from. Later sources win: defaults < file < environment < options. */
export interface ConfigSources {
  options?: AgentConfigInput;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** A JSON file; also read from SOV_CONFIG_FILE. */
  file?: string;
}

function fromEnv(field: keyof AgentConfig, raw: string): unknown {
  const type = (schema.properties[field] as { type?: string }).type;
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (type === 'integer') return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (type === 'array') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (type === 'object') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'type':
      return `must be ${String(e.params.type)}`;
    case 'minimum':
    case 'maximum':
      return `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${String(e.params.limit)}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return e.instancePath.endsWith('Url') ? 'must be an http(s) URL' : `must match ${String(e.params.pattern)}`;
    case 'additionalProperties':
      return `is not a known field (${String(e.params.additionalProperty)})`;
    case 'required':
      return 'is required';
    default:
      return e.message ?? 'is invalid';
  }
}

/**
 * Loads, merges and validates an agent's configuration. A bad value throws a
 * ConfigError naming the field, where it came from, and the expected shape.
 *
 * @example
 * const config = await loadConfig({ options: { name: 'analyst' }, file: './agent.json' });
 */
export async function loadConfig(sources: ConfigSources = {}): Promise<AgentConfig> {
  const env = sources.env ?? process.env;
  const merged: Record<string, unknown> = { ...DEFAULTS };
  const origin: Record<string, Source> = {};
  for (const k of Object.keys(DEFAULTS)) origin[k] = 'default';

  const file = sources.file ?? env.SOV_CONFIG_FILE;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new ConfigError('file', `cannot read ${file}: ${(cause as Error).message}`, { cause });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new ConfigError('file', `${file} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError('file', `${file} must hold a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      merged[k] = v;
      origin[k] = 'file';
    }
  }
  for (const [field, name] of Object.entries(CONFIG_ENV) as Array<[keyof AgentConfig, string]>) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') {
      merged[field] = fromEnv(field, raw);
      origin[field] = 'env';
    }
  }
  for (const [k, v] of Object.entries(sources.options ?? {})) {
    if (v !== undefined) {
      merged[k] = v;
      origin[k] = 'option';
    }
  }
  if (merged.heartbeatIntervalMs === undefined && typeof merged.leaseTtlSec === 'number') {
    merged.heartbeatIntervalMs = Math.max(10, Math.floor((merged.leaseTtlSec * 1000) / 3));
  }

  validateConfig ??= createAjv().compile(schema);
  if (!validateConfig(merged)) {
    const first = validateConfig.errors?.[0];
    const problem = first && ajvProblems([first])[0];
    if (!first || !problem) throw new ConfigError('(config)', 'is invalid');
    // The pointer's segments, unescaped: `/capabilities/1` is field `capabilities`, shown as `capabilities.1`.
    const segments = problem.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const field = segments[0] || '(config)';
    const where = origin[field];
    const value = merged[field];
    const source =
      where === 'env'
        ? ` (from ${CONFIG_ENV[field as keyof AgentConfig]}=${JSON.stringify(env[CONFIG_ENV[field as keyof AgentConfig]])})`
        : where === 'file'
          ? ` (from ${file})`
          : value !== undefined
            ? ` (got ${JSON.stringify(value)})`
            : '';
    const path = segments.join('.') || field;
    throw new ConfigError(path, `${describe(first)}${source}`);
  }
  return merged as unknown as AgentConfig;
}
