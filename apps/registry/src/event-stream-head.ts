import type { OutgoingHttpHeaders } from "node:http";
import type { CommittedAttempt, FallbackRun } from "./fallback.js";
import { answerHead } from "./http-responses.js";
import type { RequestContext } from "./request-context.js";

/**
 * Write the head of a streamed answer once an attempt reached the commit point:
 * status 200, the SSE headers, then `headers` (the answering attempt's); records
 * the answering provider on the request's context. Node sends the head with the
 * first events. A head that can not be written (an invalid header value) throws,
 * after the run told its observers of the first content it held (see
 * `FallbackRun.commit`), so that no event is lost.
 */
export function writeEventStreamHead(
  context: RequestContext,
  run: FallbackRun,
  committed: CommittedAttempt,
  headers: OutgoingHttpHeaders,
): void {
  context.provider = committed.candidate.entry.id;
  try {
    const head = answerHead(context, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    context.response.writeHead(200, Object.assign(head, headers));
  } catch (error) {
    run.releaseFirstContent();
    throw error;
  }
}
