import type { Messages } from "@g4f-ts/provider-core";
import { attachMessagesJson } from "@g4f-ts/provider-core/internal";
import { topLevelFieldSpan } from "./json-field-span.js";
import { jsonBodyBytesOf } from "./request-body.js";

/**
 * Attach to `messages` (the core's conversation, built from `body.messages`) the
 * client's own JSON text of it, so that a provider forwarding it unchanged sends
 * those bytes rather than serialising the conversation again (see the core's
 * `jsonBodyWithClientMessages`). Only where that text JSON.parses to exactly
 * `messages`: the conversation as built has the same keys in the same order and
 * the same values as the one parsed (so `toMessages` changed nothing), and the text
 * holds no key twice (it has as many key-value pairs as the parsed value). Costs a
 * walk over the conversation's structure and one over the body's bytes that jumps
 * over its strings; bodies below `keptBodyBytesMinimum` are not looked at.
 */
export function attachClientMessagesJson(body: unknown, messages: Messages): void {
  const bytes = jsonBodyBytesOf(body);
  if (bytes === undefined) return;
  const parsed = { pairs: 0 };
  if (!sameJson((body as { messages?: unknown }).messages, messages, parsed)) return;
  const span = topLevelFieldSpan(bytes, "messages");
  if (span === undefined || span.pairs !== parsed.pairs) return;
  attachMessagesJson(messages, bytes.subarray(span.start, span.end));
}

/**
 * True when `built` serialises to a JSON value equal to `sent` (a value JSON.parse
 * made), key order included; counts the key-value pairs of `sent`'s objects.
 * Strings are compared by `===`, which is one pointer comparison for the strings
 * zod and `toMessages` pass through.
 */
function sameJson(sent: unknown, built: unknown, parsed: { pairs: number }): boolean {
  if (typeof sent !== "object" || sent === null) return sent === built;
  if (typeof built !== "object" || built === null) return false;
  if (Array.isArray(sent)) {
    if (!Array.isArray(built) || built.length !== sent.length) return false;
    for (let index = 0; index < sent.length; index++)
      if (!sameJson(sent[index], built[index], parsed)) return false;
    return true;
  }
  if (Array.isArray(built)) return false;
  const sentFields = Object.keys(sent);
  const builtFields = Object.keys(built);
  if (builtFields.length !== sentFields.length) return false;
  parsed.pairs += sentFields.length;
  for (let index = 0; index < sentFields.length; index++) {
    const field = sentFields[index] as string;
    if (builtFields[index] !== field) return false;
    if (
      !sameJson(
        (sent as Record<string, unknown>)[field],
        (built as Record<string, unknown>)[field],
        parsed,
      )
    )
      return false;
  }
  return true;
}
