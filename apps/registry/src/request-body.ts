import { isAscii, isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { bodyTooLarge, HttpError, invalidJson } from "./http-errors.js";

/**
 * A body at least this large keeps its bytes beside the parsed value (see
 * `jsonBodyBytesOf`): below it, serialising the messages again costs less than
 * finding them in the bytes, and a small body's bytes may be a slice of a larger
 * socket buffer that holding would keep alive.
 */
export const keptBodyBytesMinimum = 32 * 1024;

// The bytes of each large parsed body, for as long as the parsed value lives.
const bodyBytes = new WeakMap<object, Buffer>();

/**
 * The bytes a body read by `readJsonBody` was parsed from (byte order mark
 * included), when it was an object of at least `keptBodyBytesMinimum` bytes; the
 * registry finds the client's own JSON text of the messages in them.
 */
export function jsonBodyBytesOf(body: unknown): Buffer | undefined {
  return typeof body === "object" && body !== null ? bodyBytes.get(body) : undefined;
}

/**
 * Read a request's JSON body, refusing one over `limitBytes` with a 413 as soon as
 * that is known (from `content-length`, or while reading), so an oversized body is
 * never buffered whole. Bad JSON is a 400.
 */
export function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => readJsonBodyThen(request, limitBytes, resolve, reject));
}

/**
 * `readJsonBody` with callbacks instead of a promise: exactly one of `onBody` (the
 * parsed body) and `onRefused` (its `HttpError`) is called, once; `onRefused` at
 * once for a body declared over the limit. A route that only hands the body on
 * makes no promise for it. What `onBody` throws is not caught here.
 */
export function readJsonBodyThen(
  request: IncomingMessage,
  limitBytes: number,
  onBody: (body: unknown) => void,
  onRefused: (error: HttpError) => void,
): void {
  const declared = Number(request.headers["content-length"]);
  if (declared > limitBytes) {
    onRefused(bodyTooLarge(limitBytes));
    return;
  }
  // Events, not `for await`: a stream's async iterator costs more than the small
  // body it reads.
  const parts: Buffer[] = [];
  let size = 0;
  let settled = false;
  const refuse = (error: HttpError): void => {
    if (settled) return;
    settled = true;
    request.off("data", onData);
    request.off("end", onEnd);
    request.off("error", onError);
    request.off("close", onClose);
    // Stop reading what is left of a body that is refused.
    request.pause();
    onRefused(error);
  };
  const onData = (part: Buffer): void => {
    size += part.byteLength;
    if (size > limitBytes) refuse(bodyTooLarge(limitBytes));
    else parts.push(part);
  };
  const onEnd = (): void => {
    if (settled) return;
    let body: unknown;
    try {
      body = parseJson(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    } catch (error) {
      refuse(error as HttpError);
      return;
    }
    // A body read to its end leaves the listeners in place: the request has nothing
    // more to emit but its `close`, which finds the read settled, and they go with it.
    settled = true;
    parts.length = 0;
    onBody(body);
  };
  // The client broke off while sending; the answer most likely reaches no one.
  const incomplete = (): void =>
    refuse(
      new HttpError(400, "The request body could not be read to its end", {
        code: "incomplete_body",
      }),
    );
  const onError = incomplete;
  const onClose = (): void => {
    if (!request.complete) incomplete();
  };
  request.on("data", onData);
  request.on("end", onEnd);
  request.on("error", onError);
  request.on("close", onClose);
}

function parseJson(bytes: Buffer): unknown {
  const value = parseJsonText(bytes);
  if (bytes.byteLength >= keptBodyBytesMinimum && typeof value === "object" && value !== null)
    bodyBytes.set(value, bytes);
  return value;
}

function parseJsonText(bytes: Buffer): unknown {
  // JSON travels as UTF-8 (RFC 8259); decoding bad bytes to U+FFFD would hand the
  // providers a text the client never sent.
  let text: string;
  // ASCII (most JSON, escapes and all) reads the same as Latin-1, which V8 copies
  // without a UTF-8 decoding pass: about a tenth of a large body's parse.
  if (isAscii(bytes)) text = bytes.toString("latin1");
  else if (isUtf8(bytes)) text = bytes.toString("utf8");
  else throw invalidJson("the body is not valid UTF-8");
  // A byte order mark is no JSON, but some clients (PowerShell, Windows editors)
  // write one; RFC 8259 lets a parser ignore it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") throw invalidJson("the body is empty");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
}

/**
 * Read what is left of a refused request's body and throw it away, up to
 * `maxBytes` more bytes or `maxMs`, then resolve. Answering (and closing) while the
 * client still sends makes it meet a reset on its write (`EPIPE` in Node's fetch,
 * `APIConnectionError` and a retried upload in the openai client) instead of the
 * answer; reading the rest first lets it see the answer. A body announced larger
 * than the bound is not read at all: the connection is closed on it.
 */
export function discardRequestBody(
  request: IncomingMessage,
  maxBytes: number,
  maxMs: number,
): Promise<void> {
  if (request.complete || request.destroyed) return Promise.resolve();
  if (Number(request.headers["content-length"]) > maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      request.off("data", onData);
      request.off("end", done);
      request.off("close", done);
      request.off("error", done);
      if (!request.complete) request.pause();
      resolve();
    };
    const onData = (part: Buffer): void => {
      size += part.byteLength;
      if (size > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    request.on("data", onData);
    request.on("end", done);
    request.on("close", done);
    request.on("error", done);
    request.resume();
  });
}
