import type { ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import { watchClientGone } from "./client-gone.js";
import { delay } from "./delay.js";
import type { ErrorInStreamFault, Fault, StatusFault } from "./faults.js";
import { writePaced } from "./paced-writer.js";
import { splitReply } from "./reply-text.js";
import { destroySocket, sendJson, sendSse, sendText } from "./responses.js";

/** A whole JSON answer, as a fake would give it when nothing goes wrong. */
export interface JsonAnswer {
  readonly type: "json";
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** What the `empty` fault answers instead (e.g. a completion with empty content). Default `{}`. */
  readonly emptyBody?: unknown;
}

/** A healthy SSE answer: the content chunks faults count, then the closing ones (finish, usage). */
export interface StreamAnswer {
  readonly type: "stream";
  readonly contentEvents: readonly object[];
  readonly closingEvents: readonly object[];
}

export type FakeAnswer = JsonAnswer | StreamAnswer;

/** Builds a fake's own error body, e.g. `{"message","statusCode"}` or `{"error":{...}}`. */
export type ErrorBodyFormat = (status: number, message: string, code?: string) => object;

export interface DeliveryOptions {
  /** Pause between healthy SSE chunks, in ms. */
  readonly chunkDelayMs: number;
  readonly errorBody: ErrorBodyFormat;
}

/** The kinds whose answer does not depend on what the healthy answer would have been. */
type ShapedFault = Exclude<
  Fault,
  { kind: "status" | "drop" | "not-json" | "html-block" | "delay-headers" }
>;

const CUT_GRACE_MS = 20;

const DEFAULT_STREAM_ERROR = {
  message: "Internal error while streaming the response",
  type: "server_error",
};

// Each a `data:` payload a strict JSON parser rejects, so a tolerant client must skip it.
const MALFORMED_PAYLOADS = ["{not json", "undefined", "<!-- not json -->"];

const CLOUDFLARE_BLOCK_PAGE = `<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html class="no-js" lang="en-US">
<head>
<title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/cf.errors.css" />
</head>
<body>
  <div id="cf-wrapper">
    <div id="cf-error-details" class="cf-error-details-wrapper">
      <div class="cf-wrapper cf-header cf-error-overview">
        <h1 data-translate="block_headline">Sorry, you have been blocked</h1>
        <h2 class="cf-subheadline"><span data-translate="unable_to_access">You are unable to access</span> api.amigochat.io</h2>
      </div>
      <div class="cf-section cf-wrapper">
        <div class="cf-columns two">
          <div class="cf-column">
            <h2 data-translate="blocked_why_headline">Why have I been blocked?</h2>
            <p data-translate="blocked_why_detail">This website is using a security service to protect itself from online attacks. The action you just performed triggered the security solution. There are several actions that could trigger this block including submitting a certain word or phrase, a SQL command or malformed data.</p>
          </div>
          <div class="cf-column">
            <h2 data-translate="blocked_resolve_headline">What can I do to resolve this?</h2>
            <p data-translate="blocked_resolve_detail">You can email the site owner to let them know you were blocked. Please include what you were doing when this page came up and the Cloudflare Ray ID found at the bottom of this page.</p>
          </div>
        </div>
      </div>
      <div class="cf-error-footer cf-wrapper">
        <p><span>Cloudflare Ray ID: <strong>8f0e1d2c3b4a5968</strong></span> &bull; <span>Performance &amp; security by Cloudflare</span></p>
      </div>
    </div>
  </div>
</body>
</html>
`;

/**
 * Sends `answer` to the client, bent by `fault` (healthy when undefined). This is the one
 * place the fakes share for fault injection, so every fake fails the same observable way.
 */
export async function deliverAnswer(
  response: ServerResponse,
  answer: FakeAnswer,
  fault: Fault | undefined,
  options: DeliveryOptions,
): Promise<void> {
  if (fault === undefined) {
    await deliverHealthy(response, answer, options);
    return;
  }
  switch (fault.kind) {
    case "drop":
      destroySocket(response);
      return;
    case "status":
      sendStatusFault(response, fault, options.errorBody);
      return;
    case "not-json":
      sendText(response, 200, "<html>oops</html>", { "content-type": "application/json" });
      return;
    case "html-block":
      sendText(response, 403, CLOUDFLARE_BLOCK_PAGE, {
        "content-type": "text/html; charset=UTF-8",
        server: "cloudflare",
        "cf-ray": "8f0e1d2c3b4a5968-AMS",
      });
      return;
    case "delay-headers": {
      const clientGone = watchClientGone(response);
      await delay(fault.ms, clientGone.signal);
      clientGone.release();
      if (!clientGone.signal.aborted) await deliverHealthy(response, answer, options);
      return;
    }
    default:
      if (answer.type === "stream") await deliverStreamFault(response, answer, fault, options);
      else await deliverJsonFault(response, answer, fault);
  }
}

async function deliverHealthy(
  response: ServerResponse,
  answer: FakeAnswer,
  options: DeliveryOptions,
): Promise<void> {
  if (answer.type === "json") {
    sendJson(response, answer.status, answer.body, answer.headers);
    return;
  }
  await sendSse(response, [...answer.contentEvents, ...answer.closingEvents], {
    delayMs: options.chunkDelayMs,
  });
}

function sendStatusFault(
  response: ServerResponse,
  fault: StatusFault,
  errorBody: ErrorBodyFormat,
): void {
  const headers: Record<string, string> = { ...fault.headers };
  if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
  if (typeof fault.body === "string") {
    sendText(response, fault.status, fault.body, headers);
    return;
  }
  const body = fault.body ?? errorBody(fault.status, STATUS_CODES[fault.status] ?? "Error");
  sendJson(response, fault.status, body, headers);
}

/**
 * Destroys the connection once what was written had time to reach the client. Cutting at
 * once would let the reset overtake the last chunks: a fetch body that errors drops the
 * chunks it has not handed out yet, and a test could never see "N chunks, then a failure".
 */
async function cutConnection(response: ServerResponse): Promise<void> {
  const clientGone = watchClientGone(response);
  await delay(CUT_GRACE_MS, clientGone.signal);
  clientGone.release();
  destroySocket(response);
}

function streamError(fault: ErrorInStreamFault): { error: object } {
  return { error: fault.error ?? DEFAULT_STREAM_ERROR };
}

async function deliverStreamFault(
  response: ServerResponse,
  answer: StreamAnswer,
  fault: ShapedFault,
  options: DeliveryOptions,
): Promise<void> {
  const content = answer.contentEvents;
  const everything = [...content, ...answer.closingEvents];
  const delayMs = options.chunkDelayMs;
  switch (fault.kind) {
    case "delay-first-chunk":
      await sendSse(response, everything, { firstDelayMs: fault.ms, delayMs });
      return;
    case "slow-drip":
      await sendSse(response, everything, {
        firstDelayMs: fault.intervalMs,
        delayMs: fault.intervalMs,
      });
      return;
    case "cut-after":
      await sendSse(response, content.slice(0, fault.chunks), { delayMs, done: false, end: false });
      await cutConnection(response);
      return;
    case "malformed-sse": {
      const interleaved = everything.flatMap((event, position) => [
        MALFORMED_PAYLOADS[position % MALFORMED_PAYLOADS.length] ?? "{not json",
        event,
      ]);
      await sendSse(response, interleaved, { delayMs });
      return;
    }
    case "error-in-stream":
      await sendSse(response, [...content.slice(0, fault.afterChunks ?? 0), streamError(fault)], {
        delayMs,
        done: false,
      });
      return;
    case "never-end":
      await sendSse(response, content.slice(0, fault.afterChunks ?? 0), {
        delayMs,
        done: false,
        end: false,
      });
      return;
    case "empty":
      await sendSse(response, []);
      return;
  }
}

async function deliverJsonFault(
  response: ServerResponse,
  answer: JsonAnswer,
  fault: ShapedFault,
): Promise<void> {
  const text = JSON.stringify(answer.body);
  const writeHead = (): void => {
    response.writeHead(answer.status, {
      "content-type": "application/json; charset=utf-8",
      // The full length, so a client reading a cut body knows it is short.
      "content-length": Buffer.byteLength(text),
      ...answer.headers,
    });
  };
  switch (fault.kind) {
    case "delay-first-chunk":
      writeHead();
      await writePaced(response, [text], { firstDelayMs: fault.ms });
      return;
    case "slow-drip":
      writeHead();
      await writePaced(response, splitReply(text, Math.ceil(text.length / 4)), {
        firstDelayMs: fault.intervalMs,
        delayMs: fault.intervalMs,
      });
      return;
    case "cut-after":
      writeHead();
      await writePaced(response, [text.slice(0, Math.floor(text.length / 2))], { end: false });
      await cutConnection(response);
      return;
    case "malformed-sse":
      sendJson(response, answer.status, answer.body, answer.headers);
      return;
    case "error-in-stream":
      sendJson(response, 200, streamError(fault));
      return;
    case "never-end":
      writeHead();
      await writePaced(response, [], { end: false });
      return;
    case "empty":
      sendJson(response, 200, answer.emptyBody ?? {});
      return;
  }
}
