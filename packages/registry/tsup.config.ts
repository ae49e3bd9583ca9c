import { sovTsup } from '@sov/tooling/tsup';

// shims: the dashboard finds its assets beside the module in both the ESM and the CJS build.
// internal (@sov/registry/internal) holds functions only, so its own bundle duplicates no class.
export default sovTsup({ entry: ['src/index.ts', 'src/bin.ts', 'src/internal.ts'], shims: true });
