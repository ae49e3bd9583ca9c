import { sovTsup } from '@sov/tooling/tsup';

export default sovTsup({ entry: ['src/demo.ts', 'src/main.ts', 'src/agent.ts'], format: ['esm'], dts: false });
