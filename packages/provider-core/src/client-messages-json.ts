import type { Messages } from "./messages.js";

/*
 * The client's own JSON text of a conversation, kept beside the parsed array, so
 * that a provider forwarding the messages unchanged sends those bytes instead of
 * serialising (and encoding) the same conversation again. For a 1 MB request the
 * `JSON.stringify` of the messages and the UTF-8 encoding of the result were about
 * a third of the registry's CPU.
 *
 * The carrier is optional: a provider that maps the messages builds its body from
 * the parsed array as always, and one that forwards them gets the same JSON value
 * either way (the text attached JSON.parses to exactly the array; whoever attaches
 * it promises that).
 */

interface MessagesJson {
  /** The UTF-8 bytes of the JSON array, as the client wrote them. */
  bytes: Uint8Array;
  /** The array's length when attached: a conversation grown or cut since no longer matches. */
  length: number;
}

const attached = new WeakMap<object, MessagesJson>();

/**
 * Keep `bytes`, the JSON text of `messages` as the client sent it, beside the array.
 * The caller promises that `JSON.parse` of the text gives exactly `messages` (the
 * same keys in the same order, the same values), and that the array is not changed
 * afterwards; a conversation of another length is never matched with it.
 */
export function attachMessagesJson(messages: Messages, bytes: Uint8Array): void {
  attached.set(messages, { bytes, length: messages.length });
}

/** The client's JSON text of `messages` (see `attachMessagesJson`), or undefined. */
export function messagesJsonOf(messages: unknown): Uint8Array | undefined {
  if (typeof messages !== "object" || messages === null) return undefined;
  const json = attached.get(messages);
  if (json === undefined || (messages as unknown[]).length !== json.length) return undefined;
  return json.bytes;
}

const encodedJsonMarker = Symbol.for("g4f-ts.EncodedJson");

/**
 * A JSON body already encoded to bytes, in pieces sent one after the other as they
 * are where a JSON value is taken (`postJson`'s `json`, an attempt's `body`): the
 * pieces are not copied into one buffer (for a 1 MB conversation that copy, into
 * fresh memory, cost about as much as the serialising it replaces).
 */
export class EncodedJson {
  readonly [encodedJsonMarker] = true;
  readonly byteLength: number;

  constructor(readonly parts: readonly Uint8Array[]) {
    let byteLength = 0;
    for (const part of parts) byteLength += part.byteLength;
    this.byteLength = byteLength;
  }

  /** The whole body in one buffer (a copy). */
  get bytes(): Buffer {
    return Buffer.concat(this.parts);
  }

  static isInstance(value: unknown): value is EncodedJson {
    return typeof value === "object" && value !== null && encodedJsonMarker in value;
  }
}

const messagesField = "messages";

/**
 * The request body with its `messages` spliced in as the client's own JSON text
 * when the array it holds carries one (see `attachMessagesJson`); the body itself,
 * serialised later as usual, otherwise. The other fields are serialised by
 * `JSON.stringify` and keep their order around `messages`, so the bytes sent
 * JSON.parse to exactly what `JSON.stringify(body)` would have sent. A provider
 * calls this only with a body whose `messages` are the caller's array unchanged.
 */
export function jsonBodyWithClientMessages<Body extends object>(body: Body): EncodedJson | Body {
  const fields = body as Record<string, unknown>;
  const json = messagesJsonOf(fields[messagesField]);
  if (json === undefined) return body;
  // Null prototypes: a field named `__proto__` stays a field.
  const before: Record<string, unknown> = Object.create(null);
  const after: Record<string, unknown> = Object.create(null);
  let seen = false;
  for (const field of Object.keys(fields)) {
    if (field === messagesField) seen = true;
    else (seen ? after : before)[field] = fields[field];
  }
  const beforeText = JSON.stringify(before);
  const afterText = JSON.stringify(after);
  const head = beforeText === "{}" ? "{" : `${beforeText.slice(0, -1)},`;
  const tail = afterText === "{}" ? "}" : `,${afterText.slice(1)}`;
  return new EncodedJson([Buffer.from(`${head}"${messagesField}":`), json, Buffer.from(tail)]);
}
