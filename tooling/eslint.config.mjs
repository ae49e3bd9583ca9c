// Shared, type-aware lint configuration (typescript-eslint with the project service).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** @param {string} tsconfigRootDir */
export function sovEslint(tsconfigRootDir) {
  return tseslint.config(
    { ignores: ['dist/**', 'coverage/**', '*.config.*', 'jest.config.cjs'] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir },
      },
      rules: {
        '@typescript-eslint/no-explicit-any': 'error',
        '@typescript-eslint/no-floating-promises': 'error',
        '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        // Event handlers must be async functions (@sov/events refuses sync ones), awaiting or not.
        '@typescript-eslint/require-await': 'off',
        // `interface SovErrorCodeMap extends XErrorCodeTable {}` is how a package adds its error codes (declaration merging).
        '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: ['**/packages/*/src/**', '../../*/src/**', '@sov/*/src/**'],
                message: 'Import a sibling package through its entry point (@sov/<name>), never its src/.',
              },
            ],
          },
        ],
      },
    },
    {
      files: ['**/*.test.ts', 'bench/**', 'src/__tests__/**'],
      rules: {
        '@typescript-eslint/no-unsafe-assignment': 'off',
        '@typescript-eslint/no-unsafe-member-access': 'off',
        '@typescript-eslint/no-unsafe-argument': 'off',
        '@typescript-eslint/no-unsafe-call': 'off',
        '@typescript-eslint/no-non-null-assertion': 'off',
        '@typescript-eslint/unbound-method': 'off',
        '@typescript-eslint/require-await': 'off',
        '@typescript-eslint/no-explicit-any': 'off',
      },
    },
  );
}
