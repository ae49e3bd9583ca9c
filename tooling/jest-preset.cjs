// Shared jest configuration. Tests run on the TypeScript sources through swc;
// sibling packages are mapped to their sources so a test never runs against a
// stale build. The import of the built packages is tested on its own
// (tests/src/packageExports.test.ts).
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..');

/** @param {string} packageDir @param {import('jest').Config} [overrides] */
module.exports = function jestConfig(packageDir, overrides = {}) {
  return {
    rootDir: packageDir,
    testEnvironment: 'node',
    roots: ['<rootDir>/src', ...(overrides.extraRoots ?? [])],
    testMatch: ['**/*.test.ts'],
    transform: {
      '^.+\\.(t|j|mj)sx?$': [
        require.resolve('@swc/jest'),
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'commonjs' },
          sourceMaps: 'inline',
        },
      ],
    },
    // ky ships ESM only; let swc turn it into CommonJS for jest.
    transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm|ky)[/@])'],
    moduleNameMapper: {
      // The fenced internal subpaths (not public API), mapped to their sources too.
      '^@sov/(core|registry)/internal$': path.join(repoRoot, 'packages/$1/src/internal.ts'),
      '^@sov/(core|crypto|state|resilience|services|events|federation|registry|testing|a2a)$':
        path.join(repoRoot, 'packages/$1/src/index.ts'),
    },
    testTimeout: 20000,
    ...Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== 'extraRoots')),
  };
};
