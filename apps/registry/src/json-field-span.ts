/*
 * Where a top-level field's value lies in the bytes of a JSON object, found without
 * decoding or parsing it again: the walk looks at the bytes of the structure one by
 * one and jumps over strings with `indexOf` of the next quote (a `"` or `\` byte is
 * never part of a multi-byte UTF-8 character). Run only on a text JSON.parse has
 * accepted, so it does not validate; anything unexpected ends it with no span.
 */

const quote = 0x22;
const backslash = 0x5c;
const colon = 0x3a;
const comma = 0x2c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;

/** The bytes of one field's value: `bytes.subarray(start, end)`. */
export interface JsonFieldSpan {
  start: number;
  end: number;
  /** The key-value pairs inside the value, at every depth (its objects' fields, duplicates counted). */
  pairs: number;
}

class UnexpectedJson extends Error {}

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipWhitespace(bytes: Buffer, at: number): number {
  let position = at;
  while (isWhitespace(bytes[position])) position++;
  return position;
}

/** The index after the string that opens at `at`. */
function skipString(bytes: Buffer, at: number): number {
  let from = at + 1;
  for (;;) {
    const close = bytes.indexOf(quote, from);
    if (close === -1) throw new UnexpectedJson();
    // A quote after an odd number of backslashes is escaped.
    let slash = close - 1;
    while (bytes[slash] === backslash) slash--;
    if ((close - 1 - slash) % 2 === 0) return close + 1;
    from = close + 1;
  }
}

/** The index after the value that starts at `at`, counting the pairs of the objects in it. */
function skipValue(bytes: Buffer, at: number, span: { pairs: number }): number {
  const first = bytes[at];
  if (first === quote) return skipString(bytes, at);
  if (first === openBrace || first === openBracket) {
    let depth = 0;
    let position = at;
    while (position < bytes.length) {
      const byte = bytes[position];
      if (byte === quote) {
        position = skipString(bytes, position);
        continue;
      }
      if (byte === openBrace || byte === openBracket) depth++;
      else if (byte === closeBrace || byte === closeBracket) {
        depth--;
        if (depth === 0) return position + 1;
      } else if (byte === colon) span.pairs++;
      position++;
    }
    throw new UnexpectedJson();
  }
  // A number, true, false or null: up to the next delimiter.
  let position = at;
  while (position < bytes.length) {
    const byte = bytes[position];
    if (byte === comma || byte === closeBrace || byte === closeBracket || isWhitespace(byte)) break;
    position++;
  }
  return position;
}

function keyIs(bytes: Buffer, start: number, end: number, field: string): boolean {
  const inner = bytes.toString("utf8", start + 1, end - 1);
  // An escaped key (`"m\u0065ssages"`) is the field it decodes to, as JSON.parse reads it.
  return (inner.includes("\\") ? JSON.parse(bytes.toString("utf8", start, end)) : inner) === field;
}

/**
 * The span of `field`'s value in the JSON object `bytes` holds (after an optional
 * byte order mark), or undefined when the object has no such field or the text is
 * not an object. A field given twice is read as JSON.parse reads it: the last wins.
 */
export function topLevelFieldSpan(bytes: Buffer, field: string): JsonFieldSpan | undefined {
  try {
    let position = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    position = skipWhitespace(bytes, position);
    if (bytes[position] !== openBrace) return undefined;
    position++;
    let found: JsonFieldSpan | undefined;
    for (;;) {
      position = skipWhitespace(bytes, position);
      if (bytes[position] === closeBrace) return found;
      if (bytes[position] !== quote) return undefined;
      const keyEnd = skipString(bytes, position);
      const isField = keyIs(bytes, position, keyEnd, field);
      position = skipWhitespace(bytes, keyEnd);
      if (bytes[position] !== colon) return undefined;
      position = skipWhitespace(bytes, position + 1);
      const value = { pairs: 0 };
      const end = skipValue(bytes, position, value);
      if (isField) found = { start: position, end, pairs: value.pairs };
      position = skipWhitespace(bytes, end);
      if (bytes[position] === comma) position++;
      else if (bytes[position] === closeBrace) return found;
      else return undefined;
    }
  } catch (error) {
    if (error instanceof UnexpectedJson) return undefined;
    throw error;
  }
}
