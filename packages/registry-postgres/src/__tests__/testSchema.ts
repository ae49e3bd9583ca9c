import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test database: SOV_TEST_DATABASE_URL, or the local PostgreSQL these machines and CI run. */
export const DATABASE_URL = process.env.SOV_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name per call, so runs (and tests) never share tables. */
export function schemaName(): string {
  return `sov_test_${randomBytes(6).toString('hex')}`;
}

/**
 * Schemas made by this test file, dropped by dropSchemas(). A missing server
 * fails here loudly: the suite needs PostgreSQL and never skips without it.
 */
export class TestSchemas {
  private readonly names = new Set<string>();
  private admin: pg.Client | undefined;

  async client(): Promise<pg.Client> {
    if (!this.admin) {
      const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 });
      try {
        await admin.connect();
      } catch (e) {
        throw new Error(`These tests need PostgreSQL at ${DATABASE_URL} (set SOV_TEST_DATABASE_URL): ${(e as Error).message}`);
      }
      this.admin = admin;
    }
    return this.admin;
  }

  /** A new schema name, remembered for dropping. */
  fresh(): string {
    const name = schemaName();
    this.names.add(name);
    return name;
  }

  async query(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    return (await this.client()).query(text, values);
  }

  async dropAll(): Promise<void> {
    const admin = await this.client();
    for (const name of this.names) await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    this.names.clear();
    await admin.end();
    this.admin = undefined;
  }
}
