import * as nodeCrypto from 'node:crypto';

/** One-shot hashing (Node 20.12+): half the cost of a Hash object for a key-sized input. */
const oneShot = (nodeCrypto as Partial<typeof nodeCrypto>).hash;
const sha256 = (data: Uint8Array): string =>
  oneShot === undefined ? nodeCrypto.createHash('sha256').update(data).digest('binary') : oneShot('sha256', data, 'binary');

/** Keys up to this many bytes are kept as they are; longer ones by their SHA-256 (a Map hashes a long string slower than SHA-256 does). */
const RAW_KEY_MAX = 64;

/** Scratch buffers larger than this are dropped after the key that grew them. */
const KEEP_BYTES = 64 * 1024;

/** Where the key is written: grown as needed, reused by every call (the key is copied out as a string). */
let buffer = Buffer.allocUnsafe(4096);
let view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
let at = 0;
/** Scratch space for an array of numbers as doubles (a Buffer offset need not be 8-aligned). */
let doubles = new Float64Array(512);
/** A toJSON that makes a key of its own while one is being written would share the buffer: refused. */
let busy = false;

const NULL = 0x6e; // n
const TRUE = 0x74; // t
const FALSE = 0x66; // f
const NUMBER = 0x64; // d
const STRING = 0x73; // s
const ARRAY = 0x5b; // [
const OBJECT = 0x7b; // {
const END = 0x5d; // ]
const NUMBERS = 0x44; // D

/**
 * A compact key for a JSON value: equal for two values exactly when their
 * JSON texts are equal up to the order of object keys (keys are sorted), as
 * the router and callCache need to find the same answer for the same params.
 * Binary, not text: numbers go in as their 8 bytes (turning a double into
 * its shortest decimal costs about 100 ns, 30 times more), strings as their
 * UTF-16 code units after their length, containers between tags. Follows
 * JSON.stringify's view of a value: toJSON is called; undefined, functions
 * and symbols are left out of objects and are null in arrays; NaN and
 * ±Infinity are null; -0 is 0. Throws a TypeError on a BigInt and a
 * RangeError on a cycle, as JSON.stringify would.
 *
 * The key is a one-byte string of at most 65 characters (its length is
 * its size in memory): the encoding itself when short, else a tag and the
 * encoding's SHA-256 digest, so a large data set costs a hash, not a long
 * Map key, and no two params share a key short of a SHA-256 collision.
 */
export function paramsKey(value: unknown): string {
  if (busy) throw new Error('paramsKey called from a toJSON while writing a key');
  busy = true;
  try {
    at = 0;
    write(jsonOf(value), 0);
    if (at <= RAW_KEY_MAX) return `r${buffer.toString('latin1', 0, at)}`;
    return `h${sha256(buffer.subarray(0, at))}`;
  } finally {
    busy = false;
    // One huge params must not pin its buffers for the life of the process.
    if (buffer.length > KEEP_BYTES) {
      buffer = Buffer.allocUnsafe(4096);
      view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    if (doubles.length * 8 > KEEP_BYTES) doubles = new Float64Array(512);
  }
}

/** The value JSON.stringify writes for `value`: its toJSON(), if it has one. */
function jsonOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const toJson = (value as { toJSON?: unknown }).toJSON;
  return typeof toJson === 'function' ? (toJson as () => unknown).call(value) : value;
}

function room(bytes: number): void {
  if (at + bytes <= buffer.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(buffer.length * 2, at + bytes));
  buffer.copy(bigger, 0, 0, at);
  buffer = bigger;
  view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function tag(t: number): void {
  room(1);
  buffer[at++] = t;
}

function writeString(s: string): void {
  room(5 + s.length * 2);
  buffer[at++] = STRING;
  view.setUint32(at, s.length);
  at += 4;
  at += buffer.write(s, at, 'utf16le');
}

/** Whether every item is a number: the common large params (data sets), written in one copy. */
function allNumbers(items: unknown[]): boolean {
  if (items.length < 8) return false;
  for (let i = 0; i < items.length; i++) if (typeof items[i] !== 'number') return false;
  return true;
}

/**
 * An array of numbers: a tag, the count and the doubles' bytes. Its JSON
 * may equal another encoding's (NaN and null both write null, -0 and 0
 * both 0): a missed hit at worst, never two JSON texts under one key.
 */
function writeNumbers(items: number[]): void {
  const n = items.length;
  if (doubles.length < n) doubles = new Float64Array(Math.max(n, doubles.length * 2));
  doubles.set(items);
  room(5 + n * 8);
  buffer[at++] = NUMBERS;
  view.setUint32(at, n);
  at += 4;
  buffer.set(new Uint8Array(doubles.buffer, 0, n * 8), at);
  at += n * 8;
}

/** Writes a value whose toJSON, if any, has been called. */
function write(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) return tag(NULL);
      room(9);
      buffer[at++] = NUMBER;
      view.setFloat64(at, value === 0 ? 0 : value);
      at += 8;
      return;
    case 'string':
      return writeString(value);
    case 'boolean':
      return tag(value ? TRUE : FALSE);
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      break;
    default:
      // undefined, a function or a symbol, where JSON writes null (in an array, or as the whole value).
      return tag(NULL);
  }
  if (value === null) return tag(NULL);
  // Deeper than any JSON a peer could send (the endpoint refuses past 64): a cycle.
  if (depth > 1000) throw new RangeError('Converting circular structure to a cache key');
  if (Array.isArray(value)) {
    if (allNumbers(value)) return writeNumbers(value as number[]);
    tag(ARRAY);
    for (let i = 0; i < value.length; i++) write(jsonOf(value[i]), depth + 1);
    return tag(END);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  tag(OBJECT);
  for (const key of keys) {
    const item = jsonOf(record[key]);
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    writeString(key);
    write(item, depth + 1);
  }
  tag(END);
}
