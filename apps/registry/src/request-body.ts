import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { bodyTooLarge, HttpError, invalidJson } from "./http-errors.js";

/**
 * Read a request's JSON body, refusing one over `limitBytes` with a 413 as soon as
 * that is known (from `content-length`, or while reading), so an oversized body is
 * never buffered whole. Bad JSON is a 400.
 */
export async function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(request.headers["content-length"]);
  if (declared > limitBytes) throw bodyTooLarge(limitBytes);
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of request) {
      const buffer = part as Buffer;
      size += buffer.byteLength;
      if (size > limitBytes) throw bodyTooLarge(limitBytes);
      parts.push(buffer);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // The client broke off while sending; the answer most likely reaches no one.
    throw new HttpError(400, "The request body could not be read to its end", {
      code: "incomplete_body",
    });
  }
  const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
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
