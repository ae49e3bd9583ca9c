import { sovTsup } from '@sov/tooling/tsup';

export default sovTsup({ entry: ['src/index.ts', 'src/bin.ts'] });
