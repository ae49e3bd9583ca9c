import { sovTsup } from '@sov/tooling/tsup';

// shims: the dashboard finds its assets beside the module in both the ESM and the CJS build.
export default sovTsup({ entry: ['src/index.ts', 'src/bin.ts'], shims: true });
