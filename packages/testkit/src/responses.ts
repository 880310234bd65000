import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { writePaced } from "./paced-writer.js";

/** Options of {@link sendSse}. */
export interface SendSseOptions {
  /** Wait before every frame after the first, in ms. Default 0. */
  readonly delayMs?: number;
  /** Wait before the first frame, in ms (headers are already sent). Default 0. */
  readonly firstDelayMs?: number;
  /** Append `data: [DONE]` after the events. Default true. */
  readonly done?: boolean;
  /** End the response after the last frame. Default true; false leaves it open to cut or hold. */
  readonly end?: boolean;
  /** Extra or replacing response headers, used only when headers are not sent yet. */
  readonly headers?: Record<string, string>;
  /** Stops writing early when aborted. */
  readonly signal?: AbortSignal;
}

const SSE_HEADERS: OutgoingHttpHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

/** Lower-cases header names so a caller's `Content-Type` replaces ours instead of doubling it. */
function normalizeHeaders(headers: Record<string, string> | undefined): OutgoingHttpHeaders {
  const normalized: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) normalized[name.toLowerCase()] = value;
  return normalized;
}

/** Answers `status` with `value` as JSON, with a content-length. */
export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers?: Record<string, string>,
): void {
  writeWholeBody(response, status, JSON.stringify(value), {
    "content-type": "application/json; charset=utf-8",
    ...normalizeHeaders(headers),
  });
}

/** Answers `status` with a text body; `text/plain` unless `headers` names a content-type. */
export function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  headers?: Record<string, string>,
): void {
  writeWholeBody(response, status, text, {
    "content-type": "text/plain; charset=utf-8",
    ...normalizeHeaders(headers),
  });
}

function writeWholeBody(
  response: ServerResponse,
  status: number,
  text: string,
  headers: OutgoingHttpHeaders,
): void {
  response.writeHead(status, { ...headers, "content-length": Buffer.byteLength(text) });
  response.end(text);
}

/** One SSE frame: objects as JSON, strings verbatim (each line of a string gets its own `data:`). */
export function formatSseData(event: string | object): string {
  const text = typeof event === "string" ? event : JSON.stringify(event);
  return `${text
    .split("\n")
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}

/**
 * Streams `events` as Server-Sent Events (`data: <json or string>` frames), paced by
 * `delayMs`/`firstDelayMs`, then `data: [DONE]` unless `done: false`. Sends a 200 with
 * `text/event-stream` first when no headers went out yet. Stops writing as soon as the
 * client goes away; resolves true when every frame was written, false otherwise.
 *
 * @example
 * const server = await startTestServer((_request, response) =>
 *   sendSse(response, [{ choices: [{ delta: { content: "Hi" } }] }], { delayMs: 10 }),
 * );
 */
export async function sendSse(
  response: ServerResponse,
  events: readonly (string | object)[],
  options: SendSseOptions = {},
): Promise<boolean> {
  if (!response.headersSent && !response.destroyed) {
    response.writeHead(200, { ...SSE_HEADERS, ...normalizeHeaders(options.headers) });
  }
  const frames = events.map(formatSseData);
  if (options.done ?? true) frames.push(formatSseData("[DONE]"));
  return writePaced(response, frames, {
    delayMs: options.delayMs,
    firstDelayMs: options.firstDelayMs,
    end: options.end,
    signal: options.signal,
  });
}

/**
 * Destroys the connection under `response` without a proper end, so the client sees a
 * reset: before the headers, a failed request; after them, a failed body read.
 */
export function destroySocket(response: ServerResponse): void {
  response.socket?.destroy();
  response.destroy();
}
