/**
 * True for a JSON request body's content type: `application/json` or an
 * `application/…+json` type, with any parameters, and a charset (if given) of
 * UTF-8, which is all JSON may be sent in (RFC 8259). Requiring it keeps a web
 * page from posting a body as `text/plain`, the one kind of cross-origin POST a
 * browser sends without asking the server first.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  // What nearly every client sends; the reading below would say the same after a
  // split, a trim and a lower-casing.
  if (header === "application/json") return true;
  const [mediaType = "", ...parameters] = header.split(";");
  const type = mediaType.trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type))
    return false;
  for (const parameter of parameters) {
    const equals = parameter.indexOf("=");
    if (equals === -1) continue;
    if (parameter.slice(0, equals).trim().toLowerCase() !== "charset") continue;
    const charset = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    if (charset !== "utf-8" && charset !== "utf8") return false;
  }
  return true;
}
