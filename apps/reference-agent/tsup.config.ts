import { sovTsup } from '@sov/tooling/tsup';

export default sovTsup({ entry: ['src/demo.ts', 'src/main.ts'], format: ['esm'], dts: false });
