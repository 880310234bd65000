import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { HttpError } from "./http-errors.js";
import type { RequestContext } from "./request-context.js";

/** Send a whole JSON body (already a string: the hot path shapes answers as text). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers?: OutgoingHttpHeaders,
): void {
  const length = Buffer.byteLength(body);
  response.writeHead(
    status,
    headers === undefined
      ? { "content-type": "application/json", "content-length": length }
      : { "content-type": "application/json", "content-length": length, ...headers },
  );
  response.end(body);
}

/**
 * The head of an answer (its first headers; more are added after them): with
 * `x-request-id` first when the request left it to the head (see `server.ts`), so
 * that the answer is written by one `writeHead` without a `setHeader` before it.
 * Node takes a slower path for a `writeHead` after a `setHeader` (each header set
 * again, one by one), about 30 µs on a cold request. The headers and their order
 * are those a `setHeader("x-request-id")` at the start would have given.
 */
export function answerHead(
  context: RequestContext,
  headers: OutgoingHttpHeaders,
): OutgoingHttpHeaders {
  if (context.requestIdPending !== true) return headers;
  context.requestIdPending = false;
  return Object.assign({ "x-request-id": context.requestId }, headers);
}

/** Send a whole JSON answer of the request of `context` (see `answerHead`). */
export function sendJsonAnswer(
  context: RequestContext,
  body: string,
  headers: OutgoingHttpHeaders,
): void {
  const head = answerHead(context, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  context.response.writeHead(200, Object.assign(head, headers));
  context.response.end(body);
}

export function sendError(response: ServerResponse, error: HttpError): void {
  sendJson(response, error.status, error.toBody(), error.headers);
}

/** Resolves on the response's next `drain`, or when it closes (a client gone never drains). */
export function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.on("drain", done);
    response.on("close", done);
  });
}

/** Write a piece of a stream, waiting for the socket to drain when its buffer is full (backpressure). */
export async function writeChunk(response: ServerResponse, text: string): Promise<void> {
  if (response.destroyed) return;
  if (!response.write(text)) await drained(response);
}
