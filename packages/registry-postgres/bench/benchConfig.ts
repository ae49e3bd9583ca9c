/** What the benchmark and its server processes agree on. */
export const AGENTS = 100_000;
export const CAPABILITIES = 50;
export const DATABASE_URL = process.env.SOV_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
