import Table from 'cli-table3';
import { createColors } from 'picocolors';

/** Where a command writes; the process streams in the bin, buffers in tests. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

type Colors = ReturnType<typeof createColors>;

/**
 * Colour only for a terminal: never when NO_COLOR is set (any value), never
 * when stdout is a pipe or a file, unless FORCE_COLOR asks for it.
 */
export function colorsFor(stream: OutputStream, env: Record<string, string | undefined>): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const enabled = env.NO_COLOR === undefined && (forced || stream.isTTY === true);
  return createColors(enabled);
}

/** A command's output: a table for people, JSON (`--json`) for programs. */
export class Output {
  readonly colors: Colors;

  constructor(
    private readonly stdout: OutputStream,
    env: Record<string, string | undefined>,
    readonly json: boolean,
  ) {
    this.colors = colorsFor(stdout, env);
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** One JSON document on its own line. */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON value per line (a stream of events). */
  record(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  table(head: string[], rows: string[][]): void {
    // cli-table3's own colours are off: picocolors decides, so NO_COLOR and pipes are honoured.
    const table = new Table({ head: head.map((h) => this.colors.bold(h)), style: { head: [], border: [] } });
    table.push(...rows);
    this.line(table.toString());
  }

  /** Label and value pairs, one per line. */
  fields(pairs: Array<[string, string]>): void {
    const table = new Table({ style: { head: [], border: [] } });
    for (const [k, v] of pairs) table.push({ [this.colors.bold(k)]: v });
    this.line(table.toString());
  }
}
