import type { AttemptReport } from "./http-errors.js";

/** The attempts named in the header at most; the rest are counted in its last entry. */
const maxListedAttempts = 8;
/** A message is cut to this many characters: the header stays well under Node's 16 KiB limit. */
const maxMessageCharacters = 200;

/**
 * The `x-g4f-attempts` header of a successful answer: the attempts that failed (or
 * were skipped in cooldown) before the provider that answered, as a JSON array of
 * `{ provider, model, status, reason, message }` in order, escaped to ASCII so that
 * it is a valid header value. Absent when the first attempt answered. (An answer
 * where every attempt failed lists them in its error body's `attempts` instead.)
 */
export function attemptsHeader(failures: readonly AttemptReport[]): Record<string, string> {
  if (failures.length === 0) return {};
  const listed: object[] = failures.slice(0, maxListedAttempts).map((failure) => ({
    provider: failure.provider,
    model: failure.model,
    status: failure.status,
    reason: failure.reason,
    message:
      failure.message.length > maxMessageCharacters
        ? `${failure.message.slice(0, maxMessageCharacters)}…`
        : failure.message,
  }));
  if (failures.length > maxListedAttempts)
    listed.push({ more: failures.length - maxListedAttempts });
  const json = JSON.stringify(listed).replace(
    /[^\x20-\x7e]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return { "x-g4f-attempts": json };
}
