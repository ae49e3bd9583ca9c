import { sovTsup } from '@sov/tooling/tsup';

// Two entries, one set of modules: with splitting (ESM and CJS), what both
// entries use sits in shared chunks, so `@sov/core/internal` and `@sov/core`
// never hold two copies of a class (SovError, DeadlineQueue ...).
export default sovTsup({ entry: ['src/index.ts', 'src/internal.ts'], splitting: true });
