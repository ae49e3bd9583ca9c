import { crc32 } from './crc32';

// Journal and snapshot files are made of lines `<crc32 as 8 hex digits> <json>\n`.
// JSON.stringify never writes a raw newline, so a newline always ends a record;
// the checksum covers the UTF-8 bytes of the JSON and catches torn or flipped bytes.

const HEX_LEN = 8;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/** Encodes one record line, newline included. */
export function encodeRecord(json: string): string {
  return `${crc32(json).toString(16).padStart(HEX_LEN, '0')} ${json}\n`;
}

/** One line of a record file, as read back. */
export interface RecordLine {
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line (past its newline when it has one). */
  next: number;
  /** The parsed JSON when the line is complete and its checksum matches; undefined otherwise. */
  value: unknown;
  valid: boolean;
}

function parseLine(buf: Buffer, start: number, end: number): { valid: boolean; value: unknown } {
  if (end - start < HEX_LEN + 2 || buf[start + HEX_LEN] !== SPACE) return { valid: false, value: undefined };
  const expected = Number.parseInt(buf.toString('latin1', start, start + HEX_LEN), 16);
  if (!Number.isInteger(expected) || crc32(buf.subarray(start + HEX_LEN + 1, end)) !== expected) return { valid: false, value: undefined };
  try {
    return { valid: true, value: JSON.parse(buf.toString('utf8', start + HEX_LEN + 1, end)) as unknown };
  } catch {
    return { valid: false, value: undefined };
  }
}

/** Splits a record file into lines; a last line without its newline is never valid (it is torn). */
export function* readRecords(buf: Buffer): Generator<RecordLine> {
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(NEWLINE, start);
    if (nl === -1) {
      yield { start, next: buf.length, value: undefined, valid: false };
      return;
    }
    const { valid, value } = parseLine(buf, start, nl);
    yield { start, next: nl + 1, value, valid };
    start = nl + 1;
  }
}
