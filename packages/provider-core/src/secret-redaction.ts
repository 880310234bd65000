/**
 * Keeping secrets (API keys, cookies, device ids) out of every text made from an
 * upstream's bytes. An upstream may echo what it was sent in any encoding: as is,
 * JSON-escaped (`\/`, `\"`, `\u002f`, escaped twice when a JSON text sits in a JSON
 * string), URL-encoded (`%2F`, `%252F`), as HTML entities, or inside base64 or
 * base64url (a `Basic` credential, a token the upstream decoded and re-encoded). A
 * secret is found in each of these, mixed freely character by character, and
 * regardless of case; a piece of a secret at either end of a text (where a body was
 * cut before it reached us) is removed too.
 */

/** What stands in a text where a secret was. */
export const redactionMark = "[redacted]";

/** Shorter values would scrub ordinary words; no real credential is this short. */
const minimumSecretLength = 4;
/** The shortest single cookie value taken for a secret on its own. */
const minimumCookieSecretLength = 12;
/** The shortest piece of a secret removed at a text's edge. */
const minimumEdgeLength = 4;

/** Words that name an authorization scheme: the header's fixed part, never the secret. */
const schemeWordPattern = /^(?:bearer|basic|token|digest|apikey|api-key|key)$/i;
const schemeAndCredentialPattern = /^\s*(bearer|basic|token|digest|apikey|api-key|key)\s+(.*)$/is;

/** Names of request headers whose values carry credentials. */
const secretHeaderNamePattern =
  /^(?:authorization|proxy-authorization|cookie)$|api-?key|token|secret|session|password|credential|device-(?:id|uuid)/i;

const namedEntities: Readonly<Record<string, string>> = {
  quot: '"',
  amp: "&",
  lt: "<",
  gt: ">",
  apos: "'",
  sol: "/",
  equals: "=",
  plus: "+",
};

/**
 * One encoded character at `index`: any run of backslashes (JSON escapes, at any
 * depth), then `uXXXX`, a `%XX` byte (`%25` repeated for URL-encoding done again,
 * several bytes for UTF-8), an HTML entity, or the character itself. Gives the
 * decoded character and where the encoded one ends.
 */
function decodeAt(text: string, index: number): { character: string; end: number } {
  let position = index;
  while (text.charCodeAt(position) === 92 && position + 1 < text.length) position++;
  const next = text[position] as string;
  if (position > index && (next === "u" || next === "U")) {
    const digits = text.slice(position + 1, position + 5);
    if (/^[0-9a-f]{4}$/i.test(digits))
      return { character: String.fromCharCode(Number.parseInt(digits, 16)), end: position + 5 };
  }
  if (next === "%") {
    const bytes: number[] = [];
    let cursor = position;
    for (;;) {
      const match = /^%(?:25)*([0-9a-f]{2})/i.exec(text.slice(cursor, cursor + 24));
      if (match === null) break;
      const byte = Number.parseInt(match[1] as string, 16);
      // One ASCII byte, or a UTF-8 sequence: its first byte says how many follow.
      if (bytes.length > 0 && (byte & 0xc0) !== 0x80) break;
      bytes.push(byte);
      cursor += match[0].length;
      const first = bytes[0] as number;
      const length = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : 2;
      if (bytes.length === length) break;
    }
    if (bytes.length > 0) {
      return { character: Buffer.from(bytes).toString("utf8"), end: cursor };
    }
  }
  if (next === "&") {
    const match = /^&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]{2,6}));/i.exec(
      text.slice(position, position + 12),
    );
    const code =
      match?.[1] !== undefined
        ? Number.parseInt(match[1], 10)
        : match?.[2] !== undefined
          ? Number.parseInt(match[2], 16)
          : undefined;
    if (match !== null && code !== undefined && code <= 0x10ffff)
      return { character: String.fromCodePoint(code), end: position + match[0].length };
    const named = match?.[3] === undefined ? undefined : namedEntities[match[3].toLowerCase()];
    if (match !== null && named !== undefined)
      return { character: named, end: position + match[0].length };
  }
  return { character: next, end: position + 1 };
}

/** One code unit, in lower case where lower case is one code unit too. */
function folded(unit: string): string {
  const code = unit.charCodeAt(0);
  if (code < 128) return code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : unit;
  const lower = unit.toLowerCase();
  return lower.length === 1 ? lower : unit;
}

function foldedText(text: string): string {
  let result = "";
  for (const unit of text) result += unit.length === 1 ? folded(unit) : unit;
  return result;
}

/**
 * A text decoded as far as an echo of a secret can be encoded, in lower case, with
 * where each decoded code unit came from in the text.
 */
interface DecodedText {
  text: string;
  starts: number[];
  ends: number[];
}

function decodeText(text: string): DecodedText {
  const units: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    // Most characters encode nothing: only `\\`, `%` and `&` start an escape.
    if (code !== 92 && code !== 37 && code !== 38) {
      units.push(folded(text[index] as string));
      starts.push(index);
      ends.push(index + 1);
      index++;
      continue;
    }
    const { character, end } = decodeAt(text, index);
    for (let unit = 0; unit < character.length; unit++) {
      units.push(folded(character[unit] as string));
      starts.push(index);
      ends.push(end);
    }
    index = end;
  }
  return { text: units.join(""), starts, ends };
}

/** Where `forms` occur in `text` (whole, or a piece at either end), as [start, end) ranges of `text`. */
function findForms(
  text: string,
  forms: readonly string[],
  starts: readonly number[] | undefined,
  ends: readonly number[] | undefined,
  rawLength: number,
): [number, number][] {
  const startOf = (index: number) => starts?.[index] ?? index;
  const endOf = (index: number) => ends?.[index] ?? index + 1;
  const ranges: [number, number][] = [];
  for (const form of forms) {
    for (let found = text.indexOf(form); found >= 0; found = text.indexOf(form, found + 1)) {
      ranges.push([startOf(found), endOf(found + form.length - 1)]);
    }
    const shortest = Math.min(minimumEdgeLength, form.length);
    // A piece of the secret's start at the text's end (a cut body), or of its end at the start.
    for (let length = Math.min(form.length - 1, text.length); length >= shortest; length--) {
      if (text.endsWith(form.slice(0, length))) {
        ranges.push([startOf(text.length - length), rawLength]);
        break;
      }
    }
    for (let length = Math.min(form.length - 1, text.length); length >= shortest; length--) {
      if (text.startsWith(form.slice(form.length - length))) {
        ranges.push([0, endOf(length - 1)]);
        break;
      }
    }
  }
  return ranges;
}

/**
 * The base64 text every copy of `secret` shares wherever it sits in a longer
 * encoded value: one per byte alignment, without the characters at its edges that
 * the neighbouring bytes change; in the base64 and the base64url alphabet.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(2)]);
    const encoded = padded.toString("base64");
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const core = encoded.slice(first, end);
    if (core.length >= minimumSecretLength) {
      cores.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return cores;
}

/** A text without these holds no encoded character. */
const escapePattern = /[\\%&]/;

interface Redactor {
  /** Every form of every secret, in lower case, longest first. */
  forms: string[];
}

function compile(secrets: readonly string[]): Redactor | undefined {
  const unique = [...new Set(secrets.filter((secret) => isSecretValue(secret)))];
  if (unique.length === 0) return undefined;
  const forms = [...new Set(unique.flatMap((secret) => [secret, ...base64Cores(secret)]))]
    .map(foldedText)
    .sort((left, right) => right.length - left.length);
  return { forms };
}

// A provider with a fixed key reuses the forms of its secrets across calls.
const compiled = new Map<string, Redactor | undefined>();
const maxCompiled = 64;

function redactorOf(secrets: readonly string[]): Redactor | undefined {
  const key = secrets.join("\u0000");
  if (compiled.has(key)) return compiled.get(key);
  const redactor = compile(secrets);
  if (compiled.size >= maxCompiled) compiled.clear();
  compiled.set(key, redactor);
  return redactor;
}

/** True for a value that can be a secret: long enough, and not a bare scheme word. */
function isSecretValue(value: string): boolean {
  const trimmed = value.trim();
  return trimmed.length >= minimumSecretLength && !schemeWordPattern.test(trimmed);
}

/**
 * Remove every secret value from a text, in every encoding an upstream may echo it
 * in (see the module's comment), and any piece of one at the text's start or end.
 * Scrub a text before cutting it or parsing it, and scrub what a parse decoded again.
 *
 * @example
 * redactSecrets('{"error":"bad key sk-a\\/b+c"}', ["sk-a/b+c"]); // '{"error":"bad key [redacted]"}'
 */
export function redactSecrets(text: string, secrets: readonly string[] | undefined): string {
  if (secrets === undefined || secrets.length === 0 || text === "") return text;
  const redactor = redactorOf(secrets);
  if (redactor === undefined) return text;
  const lower = text.toLowerCase();
  // The text as it is: a secret may hold what looks like an escape (`%41`, `\\`).
  const ranges = findForms(
    lower.length === text.length ? lower : foldedText(text),
    redactor.forms,
    undefined,
    undefined,
    text.length,
  );
  if (escapePattern.test(text)) {
    const decoded = decodeText(text);
    ranges.push(
      ...findForms(decoded.text, redactor.forms, decoded.starts, decoded.ends, text.length),
    );
  }
  if (ranges.length === 0) return text;
  ranges.sort((left, right) => left[0] - right[0]);
  let result = "";
  let position = 0;
  let open: [number, number] | undefined;
  for (const range of ranges) {
    if (open !== undefined && range[0] <= open[1]) {
      open[1] = Math.max(open[1], range[1]);
      continue;
    }
    if (open !== undefined) {
      result += `${text.slice(position, open[0])}${redactionMark}`;
      position = open[1];
    }
    open = [range[0], range[1]];
  }
  if (open !== undefined) {
    result += `${text.slice(position, open[0])}${redactionMark}`;
    position = open[1];
  }
  return result + text.slice(position);
}

/**
 * The secret part of a header value: the credential after a scheme word (`Bearer
 * sk-…` gives `sk-…`), nothing for a scheme word alone (`Bearer`), and for a cookie
 * the whole value and each cookie's value; a `Basic` credential adds its decoded
 * `user:password` and the password.
 */
export function secretsOfHeaderValue(name: string, value: string): string[] {
  const secrets: string[] = [];
  if (name.toLowerCase() === "cookie") {
    secrets.push(value);
    for (const pair of value.split(";")) {
      const separator = pair.indexOf("=");
      const cookie = separator >= 0 ? pair.slice(separator + 1).trim() : "";
      // A session id is long; `theme=dark` is a setting, and "dark" stays a word.
      if (cookie.length >= minimumCookieSecretLength) secrets.push(cookie);
    }
    return secrets.filter(isSecretValue);
  }
  const schemed = schemeAndCredentialPattern.exec(value);
  const credential = (schemed === null ? value : (schemed[2] ?? "")).trim();
  if (!isSecretValue(credential)) return [];
  secrets.push(credential);
  if (schemed?.[1]?.toLowerCase() === "basic") {
    const decoded = Buffer.from(credential, "base64").toString("utf8");
    secrets.push(decoded);
    const separator = decoded.indexOf(":");
    if (separator >= 0) secrets.push(decoded.slice(separator + 1));
  }
  return secrets.filter(isSecretValue);
}

/**
 * The secret values of a request's headers: those of `authorization`, cookies and
 * any header named like a key, token or session. Fixed values (`Bearer` alone, a
 * content type, a user agent) are not secrets and are never scrubbed.
 */
export function secretsOfHeaders(headers: Readonly<Record<string, string>> | undefined): string[] {
  const secrets: string[] = [];
  if (headers === undefined) return secrets;
  for (const [name, value] of Object.entries(headers)) {
    if (secretHeaderNamePattern.test(name)) secrets.push(...secretsOfHeaderValue(name, value));
  }
  return secrets;
}

/** The user name and password of a URL (a proxy's), which may be echoed in an error. */
export function secretsOfUrl(url: string | undefined): string[] {
  if (url === undefined) return [];
  try {
    const parsed = new URL(url);
    return [parsed.password, decodeURIComponent(parsed.password)].filter(isSecretValue);
  } catch {
    return [];
  }
}
