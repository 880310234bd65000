/**
 * Every way an upstream may write a secret back in an error: as is, JSON-escaped
 * (with `\/`, with `\u` escapes, escaped twice), URL-encoded (once, twice, as a
 * form), as HTML entities, in base64 and base64url at each byte alignment, inside
 * a `Basic` credential, and in capitals. A test sends each form from a fake
 * upstream and asserts the secret reaches none of the places a message goes.
 *
 * @example
 * for (const [form, echoed] of Object.entries(secretEchoForms(apiKey))) { … }
 */
export function secretEchoForms(secret: string): Record<string, string> {
  const json = JSON.stringify(secret).slice(1, -1);
  const unicodeEscapes = [...secret]
    .map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .join("");
  return {
    raw: secret,
    "JSON-escaped": json,
    "JSON-escaped with \\/": json.replace(/\//g, "\\/"),
    "JSON \\u escapes": unicodeEscapes,
    "JSON \\u escapes in capitals": unicodeEscapes.toUpperCase().replace(/\\U/g, "\\u"),
    "JSON-escaped twice": JSON.stringify(JSON.stringify(secret)).slice(3, -3),
    "URL-encoded": encodeURIComponent(secret),
    "URL-encoded twice": encodeURIComponent(encodeURIComponent(secret)),
    "form-encoded": new URLSearchParams({ key: secret }).toString().slice(4),
    "HTML entities": secret
      .replace(/&/g, "&amp;")
      .replace(/"/g, "&quot;")
      .replace(/\//g, "&#x2F;")
      .replace(/\+/g, "&#43;"),
    base64: Buffer.from(secret).toString("base64"),
    base64url: Buffer.from(secret).toString("base64url"),
    "base64 after one byte": Buffer.from(`x${secret}`).toString("base64"),
    "base64url after two bytes": Buffer.from(`xy${secret}`).toString("base64url"),
    "base64 of a Basic credential": Buffer.from(`user:${secret}`).toString("base64"),
    capitals: secret.toUpperCase(),
  };
}

/**
 * The runs of `length` characters of every form of `secret` that `text` holds: empty
 * when no recognisable piece of the secret, however encoded, is in it. Backslashes
 * are left out of both sides as well, so that a piece is found however many layers
 * of JSON (a log line, an error body, a message quoting a snippet) wrap it.
 */
export function secretPiecesIn(text: string, secret: string, length = 10): string[] {
  const found = new Set<string>();
  const texts = [text, text.replace(/\\/g, "")];
  for (const encoded of Object.values(secretEchoForms(secret))) {
    for (const form of [encoded, encoded.replace(/\\/g, "")]) {
      for (let start = 0; start + length <= form.length; start++) {
        const piece = form.slice(start, start + length);
        if (texts.some((candidate) => candidate.includes(piece))) found.add(piece);
      }
    }
  }
  return [...found];
}
