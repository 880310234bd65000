import type { RecordedRequest } from "./test-server.js";

/** Answer this status instead of the normal answer. */
export interface StatusFault {
  readonly kind: "status";
  readonly status: number;
  /** A string is sent as is (text/plain unless `headers` says otherwise), an object as JSON. Default: the fake's error shape. */
  readonly body?: string | object;
  readonly headers?: Record<string, string>;
  /** Sets the `retry-after` header. */
  readonly retryAfter?: string;
}

/** Wait before sending the headers, then answer normally. */
export interface DelayHeadersFault {
  readonly kind: "delay-headers";
  readonly ms: number;
}

/** Send the 200 headers at once, then wait before the first SSE chunk or the JSON body. */
export interface DelayFirstChunkFault {
  readonly kind: "delay-first-chunk";
  readonly ms: number;
}

/**
 * Stream `chunks` content chunks, then destroy the socket. A JSON answer sends its headers
 * (with the full content-length) and half of the body, then destroys the socket.
 */
export interface CutAfterFault {
  readonly kind: "cut-after";
  readonly chunks: number;
}

/** Interleave `data:` lines that are not JSON among the valid chunks; still ends with `[DONE]`. JSON answers are healthy. */
export interface MalformedSseFault {
  readonly kind: "malformed-sse";
}

/** The error object a fake puts in `{"error": {...}}`. */
export interface StreamErrorBody {
  readonly message: string;
  readonly type?: string;
  readonly code?: string | number;
  readonly status?: number;
}

/**
 * HTTP 200, then `data: {"error": {...}}` after `afterChunks` content chunks (default 0),
 * then the stream ends without `[DONE]`. A JSON answer is a 200 `{"error": {...}}`.
 */
export interface ErrorInStreamFault {
  readonly kind: "error-in-stream";
  readonly afterChunks?: number;
  readonly error?: StreamErrorBody;
}

/**
 * 200 headers, `afterChunks` content chunks (default 0), then nothing: the socket stays open
 * until the client or the server closes it. A JSON answer sends only its headers.
 */
export interface NeverEndFault {
  readonly kind: "never-end";
  readonly afterChunks?: number;
}

/** Pace every chunk (the first one too) by `intervalMs`; a JSON body drips in four slices. */
export interface SlowDripFault {
  readonly kind: "slow-drip";
  readonly intervalMs: number;
}

/** 200 with `content-type: application/json` and the body `<html>oops</html>`. */
export interface NotJsonFault {
  readonly kind: "not-json";
}

/** 403 with a Cloudflare "Attention Required! ... Sorry, you have been blocked" HTML page. */
export interface HtmlBlockFault {
  readonly kind: "html-block";
}

/** 200 SSE with only `data: [DONE]`, or a JSON answer with empty content. */
export interface EmptyFault {
  readonly kind: "empty";
}

/** Destroy the socket at once, without any response. */
export interface DropFault {
  readonly kind: "drop";
}

/** Something that goes wrong with one answer of a fake. */
export type Fault =
  | StatusFault
  | DelayHeadersFault
  | DelayFirstChunkFault
  | CutAfterFault
  | MalformedSseFault
  | ErrorInStreamFault
  | NeverEndFault
  | SlowDripFault
  | NotJsonFault
  | HtmlBlockFault
  | EmptyFault
  | DropFault;

export type FaultKind = Fault["kind"];

/**
 * Which fault each request gets. A list is consumed one entry per request, in order
 * (`undefined` entries and requests past the end are answered healthily); a function
 * chooses from the request itself.
 *
 * @example
 * fake.setFaults([{ kind: "status", status: 503 }, undefined, { kind: "drop" }]);
 * fake.setFaults((request) => (request.path.endsWith("/images/generations") ? { kind: "html-block" } : undefined));
 */
export type FaultPlan =
  | readonly (Fault | undefined)[]
  | ((request: RecordedRequest) => Fault | undefined);

/** Turns a plan into the per-request chooser the fakes call once for each routed request. */
export function createFaultSchedule(
  plan: FaultPlan | undefined,
): (request: RecordedRequest) => Fault | undefined {
  if (plan === undefined) return () => undefined;
  if (typeof plan === "function") return plan;
  const pending = [...plan];
  return () => pending.shift();
}
