/**
 * The slice of RFC 8941 structured fields that HTTP Message Signatures need:
 * dictionaries whose members are inner lists of strings with parameters
 * (Signature-Input) or byte sequences (Signature, Content-Digest), and the
 * canonical serialisation of an inner list for `@signature-params`.
 * Parsers return undefined on anything malformed; they never throw.
 */

/** A bare item: integer, string, token, byte sequence (kept as its base64 text) or boolean. */
export type BareItem = number | string | boolean | { token: string } | { bytes: string };

/** An inner list of string items with parameters. */
export interface InnerList {
  readonly items: readonly string[];
  params: Map<string, BareItem>;
}

// Character classes as lookup tables: this parser runs on every signed request.
function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  return t;
}
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const KEY_START = table(`${LOWER}*`);
const KEY_CHAR = table(`${LOWER}${DIGITS}_-.*`);
const TOKEN_START = table(`${LOWER}${UPPER}*`);
const TOKEN_CHAR = table(`${LOWER}${UPPER}${DIGITS}!#$%&'*+-.^_\`|~:/`);
const BASE64_CHAR = table(`${LOWER}${UPPER}${DIGITS}+/=`);

function is(t: Uint8Array, code: number): boolean {
  return code < 128 && t[code] === 1;
}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  code(): number {
    return this.text.charCodeAt(this.pos);
  }
  skipSpaces(): void {
    while (this.peek() === ' ') this.pos++;
  }
  skipOws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
}

function parseKey(c: Cursor): string | undefined {
  if (!is(KEY_START, c.code())) return undefined;
  const start = c.pos;
  while (is(KEY_CHAR, c.code())) c.pos++;
  return c.text.slice(start, c.pos);
}

function parseString(c: Cursor): string | undefined {
  if (c.peek() !== '"') return undefined;
  c.pos++;
  // Fast path: no escapes before the closing quote.
  const close = c.text.indexOf('"', c.pos);
  if (close > 0) {
    const raw = c.text.slice(c.pos, close);
    if (!raw.includes('\\') && /^[\x20-\x7e]*$/.test(raw)) {
      c.pos = close + 1;
      return raw;
    }
  }
  let out = '';
  while (!c.done) {
    const ch = c.text[c.pos++]!;
    if (ch === '\\') {
      const next = c.text[c.pos++];
      if (next !== '"' && next !== '\\') return undefined;
      out += next;
    } else if (ch === '"') {
      return out;
    } else {
      const code = ch.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) return undefined;
      out += ch;
    }
  }
  return undefined;
}

function parseBareItem(c: Cursor): BareItem | undefined {
  const ch = c.peek();
  if (ch === '"') return parseString(c);
  if (ch === ':') {
    c.pos++;
    const start = c.pos;
    while (is(BASE64_CHAR, c.code())) c.pos++;
    if (c.peek() !== ':') return undefined;
    const bytes = c.text.slice(start, c.pos);
    c.pos++;
    return { bytes };
  }
  if (ch === '?') {
    c.pos++;
    const b = c.text[c.pos++];
    return b === '1' ? true : b === '0' ? false : undefined;
  }
  if (ch === '-' || (ch >= '0' && ch <= '9')) {
    const match = /^-?[0-9]{1,15}/.exec(c.text.slice(c.pos, c.pos + 16));
    if (!match) return undefined;
    c.pos += match[0].length;
    // Decimals are not used here, and an integer has at most 15 digits.
    if (c.peek() === '.' || (c.peek() >= '0' && c.peek() <= '9')) return undefined;
    return Number(match[0]);
  }
  if (is(TOKEN_START, c.code())) {
    const start = c.pos;
    while (is(TOKEN_CHAR, c.code())) c.pos++;
    return { token: c.text.slice(start, c.pos) };
  }
  return undefined;
}

function parseParams(c: Cursor): Map<string, BareItem> | undefined {
  const params = new Map<string, BareItem>();
  while (c.peek() === ';') {
    c.pos++;
    c.skipSpaces();
    const key = parseKey(c);
    if (key === undefined) return undefined;
    let value: BareItem = true;
    if (c.peek() === '=') {
      c.pos++;
      const v = parseBareItem(c);
      if (v === undefined) return undefined;
      value = v;
    }
    params.set(key, value);
  }
  return params;
}

function parseInnerList(c: Cursor): InnerList | undefined {
  if (c.peek() !== '(') return undefined;
  c.pos++;
  const items: string[] = [];
  for (;;) {
    c.skipSpaces();
    if (c.peek() === ')') {
      c.pos++;
      break;
    }
    const item = parseString(c);
    if (item === undefined) return undefined;
    // Component parameters (;sf, ;req ...) are not supported: refuse them.
    if (c.peek() === ';') return undefined;
    items.push(item);
    if (c.peek() !== ' ' && c.peek() !== ')') return undefined;
  }
  const params = parseParams(c);
  return params ? { items, params } : undefined;
}

function parseDictionary<T>(text: string, parseValue: (c: Cursor) => T | undefined): Map<string, T> | undefined {
  const c = new Cursor(text);
  const out = new Map<string, T>();
  c.skipSpaces();
  while (!c.done) {
    const key = parseKey(c);
    if (key === undefined || c.peek() !== '=') return undefined;
    c.pos++;
    const value = parseValue(c);
    if (value === undefined) return undefined;
    out.set(key, value);
    c.skipOws();
    if (c.done) break;
    if (c.peek() !== ',') return undefined;
    c.pos++;
    c.skipOws();
    if (c.done) return undefined;
  }
  return out;
}

/** Parses a Signature-Input header: label → covered components and parameters. */
export function parseSignatureInput(text: string): Map<string, InnerList> | undefined {
  return parseDictionary(text, parseInnerList);
}

/** Parses a dictionary of byte sequences (Signature, Content-Digest): key → base64 text. Parameters are refused. */
export function parseByteSequences(text: string): Map<string, string> | undefined {
  return parseDictionary(text, (c) => {
    const item = parseBareItem(c);
    return typeof item === 'object' && 'bytes' in item ? item.bytes : undefined;
  });
}

function serializeBareItem(value: BareItem): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    return value.includes('"') || value.includes('\\') ? `"${value.replace(/[\\"]/g, (m) => `\\${m}`)}"` : `"${value}"`;
  }
  if (typeof value === 'boolean') return value ? '?1' : '?0';
  return 'token' in value ? value.token : `:${value.bytes}:`;
}

/** The canonical serialisation of an inner list (RFC 8941 §4.1.1.1), as `@signature-params` uses it. */
export function serializeInnerList(list: InnerList): string {
  let out = `(${list.items.map((i) => serializeBareItem(i)).join(' ')})`;
  for (const [key, value] of list.params) out += value === true ? `;${key}` : `;${key}=${serializeBareItem(value)}`;
  return out;
}

// A member already in canonical form, with no escapes, tokens, booleans or
// byte sequences: its text is its serialisation, so it needs no round trip.
const PLAIN_CONTENT = '[\\x20\\x21\\x23-\\x3a\\x3c-\\x5b\\x5d-\\x7e]*';
const PLAIN_STRING = `"${PLAIN_CONTENT}"`;
const CANONICAL_MEMBER = new RegExp(
  `^([a-z*][a-z0-9_\\-.*]*)=(\\((?:${PLAIN_STRING}(?: ${PLAIN_STRING})*)?\\)((?:;[a-z*][a-z0-9_\\-.*]*=(?:${PLAIN_STRING}|0|-?[1-9][0-9]{0,14}))*))$`,
);

/**
 * Component lists already matched by CANONICAL_MEMBER, by their text: a
 * caller sends the same one or two on every request, so the next requests
 * check only their label and parameters. Bounded.
 */
const knownLists = new Map<string, readonly string[]>();
let lastList: { text: string; items: readonly string[] } = { text: '', items: [] };

// The characters of a plain string's content: printable ASCII but '"', ';' and '\\' (no escapes, and a ';' would
// end the parameter: see CANONICAL_MEMBER).
const PLAIN_CHAR = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x20; c <= 0x7e; c++) t[c] = 1;
  t[0x22] = 0;
  t[0x3b] = 0;
  t[0x5c] = 0;
  return t;
})();

/** Whether `text` is a key (RFC 8941 §3.1.2): `[a-z*][a-z0-9_\-.*]*`. */
function isKey(text: string): boolean {
  if (text.length === 0 || !is(KEY_START, text.charCodeAt(0))) return false;
  for (let i = 1; i < text.length; i++) if (!is(KEY_CHAR, text.charCodeAt(i))) return false;
  return true;
}

// What our signers send after the list, in this order: one sticky regex reads it (about twice as fast as the loop).
const OUR_PARAMS = new RegExp(`;created=(0|[1-9][0-9]{0,14});keyid="(${PLAIN_CONTENT})";nonce="(${PLAIN_CONTENT})";alg="(${PLAIN_CONTENT})"$`, 'y');

/** The parameters of a canonical member in our signers' layout from `at` to the end, or undefined for any other. */
function ourParams(text: string, at: number): Map<string, BareItem> | undefined {
  OUR_PARAMS.lastIndex = at;
  const m = OUR_PARAMS.exec(text);
  if (!m) return undefined;
  const params = new Map<string, BareItem>();
  params.set('created', Number(m[1]));
  params.set('keyid', m[2]!);
  params.set('nonce', m[3]!);
  params.set('alg', m[4]!);
  return params;
}

/**
 * Reads the parameters of a canonical member from `at` to the end of `text`:
 * `;key=value` repeated, each value a plain string, 0 or an integer of at most
 * 15 digits without a leading zero (what CANONICAL_MEMBER's parameters match), in one pass.
 * Undefined for anything else.
 */
function canonicalParams(text: string, at: number): Map<string, BareItem> | undefined {
  const params = new Map<string, BareItem>();
  const end = text.length;
  let i = at;
  while (i < end) {
    if (text.charCodeAt(i) !== 0x3b /* ; */) return undefined;
    const keyStart = ++i;
    if (i >= end || !is(KEY_START, text.charCodeAt(i))) return undefined;
    i++;
    while (i < end && is(KEY_CHAR, text.charCodeAt(i))) i++;
    const key = text.slice(keyStart, i);
    if (text.charCodeAt(i) !== 0x3d /* = */) return undefined;
    i++;
    const first = text.charCodeAt(i);
    if (first === 0x22 /* " */) {
      const valueStart = ++i;
      while (i < end && is(PLAIN_CHAR, text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) !== 0x22) return undefined;
      params.set(key, text.slice(valueStart, i));
      i++;
    } else {
      const valueStart = i;
      if (first === 0x2d /* - */) i++;
      const digitsStart = i;
      while (i < end && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
      const digits = i - digitsStart;
      // 0 alone, or 1 to 15 digits without a leading zero (and no "-0").
      const leadingZero = text.charCodeAt(digitsStart) === 0x30;
      if (digits === 0 || digits > 15 || (leadingZero && (digits > 1 || first === 0x2d))) return undefined;
      params.set(key, Number(text.slice(valueStart, i)));
    }
  }
  return params;
}

/**
 * Parses a Signature-Input holding one member in canonical form (what our
 * signer sends) without the general parser; returns the label, the list and
 * its serialisation, or undefined to fall back to parseSignatureInput. The
 * list's items are shared between calls: read them, never change them.
 */
export function parseCanonicalSignatureInput(text: string): { label: string; list: InnerList; serialized: string } | undefined {
  // The list ends at its first ')' outside a string; a list seen before ends there too, and is all that follows its '='.
  const eq = text.indexOf('=');
  const close = eq > 0 ? text.indexOf(')', eq) : -1;
  if (close > 0) {
    // The list of the previous request (=== on the slice: startsWith(list, at) goes character by character in V8);
    // else any list seen before.
    const listText = text.slice(eq + 1, close + 1);
    const known = listText === lastList.text ? lastList.items : knownLists.get(listText);
    if (known) {
      const label = text.slice(0, eq);
      const params = isKey(label) ? (ourParams(text, close + 1) ?? canonicalParams(text, close + 1)) : undefined;
      if (params) {
        if (known !== lastList.items) lastList = { text: listText, items: known };
        return { label, list: { items: known, params }, serialized: text.slice(eq + 1) };
      }
    }
  }
  const match = CANONICAL_MEMBER.exec(text);
  if (!match) return undefined;
  const serialized = match[2]!;
  const paramsText = match[3]!;
  const listText = serialized.slice(0, serialized.length - paramsText.length);
  const itemsText = listText.slice(1, -1);
  const items = Object.freeze(itemsText.length === 0 ? [] : itemsText.slice(1, -1).split('" "'));
  if (knownLists.size >= 64) knownLists.clear();
  knownLists.set(listText, items);
  return { label: match[1]!, list: { items, params: canonicalParams(paramsText, 0)! }, serialized };
}
