import { type AsyncResult, ResponseChunk } from "./response-chunks.js";

/*
 * The optional Responses passthrough of the contract: a provider whose upstream
 * serves OpenAI's Responses API itself may be asked to forward a `/v1/responses`
 * request to it unchanged, instead of a registry translating it to a chat call.
 */

/** Options of one forwarded Responses request. */
export interface ResponsesPassthroughOptions {
  /** Cancels the request and closes its socket at once. */
  signal?: AbortSignal;
  /** Seconds the whole request may take. */
  timeout?: number;
}

/** A provider that can forward Responses API requests to its upstream unchanged. */
export interface ResponsesPassthroughProvider {
  /** True when Responses requests for `model` (a resolved id) go to the upstream's own endpoint. */
  forwardsResponses(model: string): boolean;
  /**
   * POST `body`, a Responses API request whose `model` is already the upstream's
   * id, to the upstream's `/responses`, and yield its answer as it arrives:
   * `NativeResponseText` chunks (SSE when `body.stream` is true, else one JSON
   * text). A failure (a non-2xx status, a refused connection) is a
   * `ProviderError`, as a chat call's is.
   */
  forwardResponse(
    body: Record<string, unknown>,
    options?: ResponsesPassthroughOptions,
  ): AsyncResult;
}

/** True when `provider` can forward Responses API requests. */
export function supportsResponsesPassthrough<Value extends object>(
  provider: Value,
): provider is Value & ResponsesPassthroughProvider {
  const candidate = provider as Partial<ResponsesPassthroughProvider>;
  return (
    typeof candidate.forwardsResponses === "function" &&
    typeof candidate.forwardResponse === "function"
  );
}

const nativeResponseMarker = Symbol.for("g4f-ts.response-chunk.NativeResponseText");

/**
 * A piece of an upstream's own Responses API answer, passed on as it came: its
 * text, and the answer's content type (`text/event-stream` or `application/json`).
 */
export class NativeResponseText extends ResponseChunk {
  readonly [nativeResponseMarker] = true;
  readonly type = "native-response";
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {
    super();
  }

  override get carriesContent(): boolean {
    return this.text.length > 0;
  }

  static override isInstance(value: unknown): value is NativeResponseText {
    return typeof value === "object" && value !== null && nativeResponseMarker in value;
  }
}
