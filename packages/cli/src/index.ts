export { runSov } from './runSov';
export { EXIT_CODES } from './exitCodes';

export type { ExitCode } from './exitCodes';
export type { SovIo } from './internal/commandContext';
export type { OutputStream } from './internal/output';
