import { sovTsup } from '@sov/tooling/tsup';

export default sovTsup();
