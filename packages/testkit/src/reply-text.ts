import type { RecordedRequest } from "./test-server.js";

/** Chooses the reply of a fake for one request: a text (split into chunks) or the exact chunks. */
export type ReplyFunction = (request: RecordedRequest) => string | readonly string[];

/** A fixed text, fixed chunks, or a function of the request. */
export type ReplySource = string | readonly string[] | ReplyFunction;

/**
 * Splits `text` into pieces of `size` characters (the last may be shorter), by code point
 * so an emoji is never cut in half. Deterministic, so tests can predict the chunks.
 *
 * @example
 * splitReply("Hello from x!"); // ["Hell", "o fr", "om x", "!"]
 */
export function splitReply(text: string, size = 4): string[] {
  const characters = Array.from(text);
  const pieces: string[] = [];
  const step = Math.max(1, Math.floor(size));
  for (let start = 0; start < characters.length; start += step) {
    pieces.push(characters.slice(start, start + step).join(""));
  }
  return pieces;
}

function requestedModel(request: RecordedRequest): string {
  const body = request.json;
  if (
    typeof body === "object" &&
    body !== null &&
    "model" in body &&
    typeof body.model === "string"
  ) {
    return body.model;
  }
  return "unknown-model";
}

/** `Hello from <model>!`, the reply of a fake nobody scripted. */
export function defaultReply(request: RecordedRequest): string {
  return `Hello from ${requestedModel(request)}!`;
}

/** The content chunks a fake streams for `request`. */
export function resolveReplyChunks(source: ReplySource, request: RecordedRequest): string[] {
  const reply = typeof source === "function" ? source(request) : source;
  return typeof reply === "string" ? splitReply(reply) : [...reply];
}
