import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** The key a request presents: `Authorization: Bearer <key>`, or g4f's `g4f-api-key` header. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1] !== undefined) return match[1].trim();
  }
  const g4fKey = headers["g4f-api-key"];
  const value = Array.isArray(g4fKey) ? g4fKey[0] : g4fKey;
  return value === undefined || value === "" ? undefined : value.trim();
}

/**
 * Checks presented keys against the configured ones in constant time: both sides
 * are hashed to the same length first (so neither a key's content nor its length
 * leaks through timing), and every configured key is compared, match or not.
 */
export class ApiKeyChecker {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  /** True when no key is configured: the server is open. */
  get open(): boolean {
    return this.#digests.length === 0;
  }

  accepts(key: string): boolean {
    const presented = digest(key);
    let accepted = false;
    for (const expected of this.#digests) {
      if (timingSafeEqual(presented, expected)) accepted = true;
    }
    return accepted;
  }
}
