import { defineConfig } from 'tsup';

/**
 * The build every package shares: ESM and CJS, declarations and source maps.
 * ky ships ESM only, so it is bundled in: the CJS build must load on every
 * Node >= 20, including those without require(esm).
 *
 * @param {import('tsup').Options} [overrides]
 */
export function sovTsup(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    noExternal: ['ky'],
    ...overrides,
  });
}
