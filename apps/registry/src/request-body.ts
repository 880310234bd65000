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
  readJsonBodyInto(request, limitBytes, { bodyRead: onBody, bodyRefused: onRefused });
}

/** Who hears how a body's read ended: exactly one of the two, once. */
export interface JsonBodyReceiver {
  /** The parsed body. What this throws is not caught by the read. */
  bodyRead(body: unknown): void;
  bodyRefused(error: HttpError): void;
}

/**
 * `readJsonBodyThen` telling an object rather than two functions: a route's own
 * answer object can hear it, and no closure is made for either outcome.
 */
export function readJsonBodyInto(
  request: IncomingMessage,
  limitBytes: number,
  receiver: JsonBodyReceiver,
): void {
  const declared = Number(request.headers["content-length"]);
  if (declared > limitBytes) {
    receiver.bodyRefused(bodyTooLarge(limitBytes));
    return;
  }
  new JsonBodyRead(request, limitBytes, receiver).start();
}

/**
 * One body being read: its parts and the three listeners that read it. Events, not
 * `for await`: a stream's async iterator costs more than the small body it reads.
 * No `error` listener: an `IncomingMessage` emits `error` only to a listener (Node
 * keeps it so for compatibility), and always `close` after it, where a body cut
 * short is told apart from a whole one by `request.complete`.
 */
class JsonBodyRead {
  /** The body's first part (most bodies come in one), then the others. */
  #first: Buffer | undefined = undefined;
  #more: Buffer[] | undefined = undefined;
  #size = 0;
  #settled = false;

  constructor(
    readonly request: IncomingMessage,
    readonly limitBytes: number,
    readonly receiver: JsonBodyReceiver,
  ) {}

  start(): void {
    const { request } = this;
    request.on("data", this.#onData);
    request.on("end", this.#onEnd);
    request.on("close", this.#onClose);
  }

  readonly #onData = (part: Buffer): void => {
    this.#size += part.byteLength;
    if (this.#size > this.limitBytes) this.#refuse(bodyTooLarge(this.limitBytes));
    else if (this.#first === undefined) this.#first = part;
    else if (this.#more === undefined) this.#more = [part];
    else this.#more.push(part);
  };

  readonly #onEnd = (): void => {
    if (this.#settled) return;
    let body: unknown;
    try {
      body = parseJson(this.#bytes());
    } catch (error) {
      this.#refuse(error as HttpError);
      return;
    }
    // A body read to its end leaves the listeners in place: the request has nothing
    // more to emit but its `close`, which finds the read settled, and they go with it.
    this.#settled = true;
    this.#first = undefined;
    this.#more = undefined;
    this.receiver.bodyRead(body);
  };

  // The client broke off while sending; the answer most likely reaches no one.
  readonly #onClose = (): void => {
    if (!this.request.complete)
      this.#refuse(
        new HttpError(400, "The request body could not be read to its end", {
          code: "incomplete_body",
        }),
      );
  };

  #bytes(): Buffer {
    const first = this.#first ?? Buffer.alloc(0);
    return this.#more === undefined ? first : Buffer.concat([first, ...this.#more]);
  }

  #refuse(error: HttpError): void {
    if (this.#settled) return;
    this.#settled = true;
    const { request } = this;
    request.off("data", this.#onData);
    request.off("end", this.#onEnd);
    request.off("close", this.#onClose);
    // Stop reading what is left of a body that is refused.
    request.pause();
    this.receiver.bodyRefused(error);
  }
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
