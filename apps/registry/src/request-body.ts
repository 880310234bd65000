import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { bodyTooLarge, HttpError, invalidJson } from "./http-errors.js";

/**
 * Read a request's JSON body, refusing one over `limitBytes` with a 413 as soon as
 * that is known (from `content-length`, or while reading), so an oversized body is
 * never buffered whole. Bad JSON is a 400.
 */
export function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(request.headers["content-length"]);
  if (declared > limitBytes) return Promise.reject(bodyTooLarge(limitBytes));
  // Events, not `for await`: a stream's async iterator costs more than the small
  // body it reads.
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error: HttpError | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
      if (error !== undefined) {
        // Stop reading what is left of a body that is refused.
        request.pause();
        reject(error);
      } else resolve(value);
    };
    const onData = (part: Buffer): void => {
      size += part.byteLength;
      if (size > limitBytes) settle(bodyTooLarge(limitBytes));
      else parts.push(part);
    };
    const onEnd = (): void => {
      try {
        settle(
          undefined,
          parseJson(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)),
        );
      } catch (error) {
        settle(error as HttpError);
      }
    };
    // The client broke off while sending; the answer most likely reaches no one.
    const incomplete = (): void =>
      settle(
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
  });
}

function parseJson(bytes: Buffer): unknown {
  // JSON travels as UTF-8 (RFC 8259); decoding bad bytes to U+FFFD would hand the
  // providers a text the client never sent.
  if (!isUtf8(bytes)) throw invalidJson("the body is not valid UTF-8");
  const text = bytes.toString("utf8");
  if (text.trim() === "") throw invalidJson("the body is empty");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
}
