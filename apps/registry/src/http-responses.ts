import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { HttpError } from "./http-errors.js";

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
