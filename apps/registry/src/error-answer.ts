import { ProviderError } from "@g4f-ts/provider-core";
import { HttpError, shuttingDown } from "./http-errors.js";
import { sendError } from "./http-responses.js";
import { discardRequestBody } from "./request-body.js";
import type { RequestContext } from "./request-context.js";

/**
 * A refused body is read and dropped up to this many bytes (and for at most
 * `discardMs`) before its answer, so the client sees the answer rather than a
 * reset on its upload; past that the connection is closed on it.
 */
function discardBytesOf(bodyLimitBytes: number): number {
  return Math.max(4 * bodyLimitBytes, 16 * 1024 * 1024);
}
const discardMs = 10_000;

/**
 * Answer a request that failed with OpenAI's error shape: an `HttpError` as it is,
 * a request a shutdown ended as 503, anything else as a logged 500. Nothing is
 * written when the client has gone or a committed stream has begun its answer.
 */
export async function answerError(
  context: RequestContext,
  error: unknown,
  bodyLimitBytes: number,
): Promise<void> {
  const { response } = context;
  if (response.headersSent) {
    // Only a committed stream has sent headers, and it writes its own error event.
    if (!response.writableEnded) response.destroy();
    return;
  }
  if (context.signal.aborted && !context.endedByShutdown) {
    // The client is gone: nobody to answer.
    if (!response.destroyed) response.destroy();
    return;
  }
  // A body left unread (refused before or while reading it) is read to its end
  // (within a bound) and dropped before the answer, so the client sees the answer
  // and not a reset on its upload, and the connection closes after it.
  const { request } = context;
  const hasBody =
    request.headers["transfer-encoding"] !== undefined ||
    Number(request.headers["content-length"] ?? 0) > 0;
  if (hasBody && !request.complete) {
    response.setHeader("connection", "close");
    await discardRequestBody(request, discardBytesOf(bodyLimitBytes), discardMs);
    if (response.destroyed || (context.signal.aborted && !context.endedByShutdown)) return;
  }
  if (error instanceof HttpError) {
    sendError(response, error);
    return;
  }
  if (context.endedByShutdown) {
    sendError(response, shuttingDown());
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  context.logger?.error(
    {
      requestId: context.requestId,
      error: message,
      name: error instanceof Error ? error.name : typeof error,
      provider: ProviderError.isInstance(error) ? error.provider : undefined,
    },
    "unexpected error",
  );
  sendError(
    response,
    new HttpError(500, "The server failed to answer the request", { code: "internal_error" }),
  );
}
