import { sovEslint } from '@sov/tooling/eslint';

export default sovEslint(import.meta.dirname);
