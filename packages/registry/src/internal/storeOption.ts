import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '@sov/core';
import { EmbeddedRegistryStore } from '../embeddedRegistryStore';
import { MemoryRegistryStore } from '../memoryRegistryStore';
import type { RegistryStore } from '../registryStore';

/** The store options of the sov-registry command line. */
export interface StoreOption {
  store: string | undefined;
  memory: boolean;
  dataDir: string;
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
}

/** What sov-registry needs of @sov/registry-postgres (typed here: this package does not depend on it). */
interface PostgresModule {
  PostgresRegistryStore: new (options: { connectionString: string; schema?: string; logger?: Logger }) => RegistryStore;
}

export const POSTGRES_PACKAGE = '@sov/registry-postgres';

const isNotFound = (e: unknown) => ['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes((e as { code?: string }).code ?? '');

/**
 * Loads @sov/registry-postgres on demand, so the embedded registry never
 * needs pg: first as this package sees it, then as the project in the
 * working directory does (a project that installed both).
 */
async function loadPostgres(): Promise<PostgresModule | undefined> {
  try {
    return (await import(POSTGRES_PACKAGE)) as PostgresModule;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  let resolved: string;
  try {
    resolved = createRequire(join(process.cwd(), 'package.json')).resolve(POSTGRES_PACKAGE);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  return (await import(pathToFileURL(resolved).href)) as PostgresModule;
}

/** The store the command line asks for; `fail` ends the process with a usage error. */
export async function storeFromOption(option: StoreOption, logger: Logger, fail: (message: string) => never): Promise<RegistryStore> {
  const kind = option.store ?? (option.memory ? 'memory' : 'embedded');
  if (!['embedded', 'memory', 'postgres'].includes(kind)) fail(`--store must be embedded, memory or postgres (got ${JSON.stringify(kind)})`);
  if (option.memory && kind !== 'memory') fail(`--memory and --store ${kind} contradict each other`);
  if (kind === 'memory') return new MemoryRegistryStore();
  if (kind === 'embedded') return new EmbeddedRegistryStore({ dir: option.dataDir, logger });
  if (!option.databaseUrl) fail('--store postgres needs --database-url <postgres://...> (or SOV_REGISTRY_DATABASE_URL)');
  const pg = await loadPostgres();
  if (!pg) fail(`--store postgres needs the package ${POSTGRES_PACKAGE}, which is not installed: npm install ${POSTGRES_PACKAGE} (beside @sov/registry)`);
  try {
    return new pg.PostgresRegistryStore({
      connectionString: option.databaseUrl,
      logger,
      ...(option.databaseSchema ? { schema: option.databaseSchema } : {}),
    });
  } catch (e) {
    // A bad schema name or URL: a usage error, said as such.
    fail(`--store postgres: ${(e as Error).message}`);
  }
}
