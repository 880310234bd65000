import {
  CallDeadline,
  type Chunk,
  NativeResponseText,
  postJson,
  type ResponsesPassthroughOptions,
  withRetries,
} from "@g4f-ts/provider-core";
import { defaultHttpTimeouts } from "@g4f-ts/provider-core/internal";
import { refineUpstreamError } from "./openai-compatible-errors.js";
import type { OpenAICompatibleSettings } from "./openai-compatible-options.js";

/** The Responses API path, appended to the base URL as the OpenAI SDK does. */
export const openAICompatibleResponsesPath = "/responses";

/**
 * Forward a Responses API request unchanged to `POST {baseUrl}/responses` and yield
 * its answer's text as it arrives (`NativeResponseText`, with the answer's content
 * type): the SSE events of a stream, or the JSON of one answer. A non-2xx status
 * is the core's typed error (a 404 about the model a `ModelNotSupportedError`);
 * retryable failures are retried as a chat call's are, never after text arrived.
 */
export function forwardOpenAICompatibleResponse(
  settings: OpenAICompatibleSettings,
  body: Record<string, unknown>,
  options: ResponsesPassthroughOptions = {},
): AsyncGenerator<Chunk> {
  const provider = settings.label;
  const url = `${settings.baseUrl}${openAICompatibleResponsesPath}`;
  const model = typeof body.model === "string" ? body.model : "";
  const { signal } = options;
  const deadline = new CallDeadline(
    provider,
    options.timeout !== undefined
      ? options.timeout * 1000
      : (settings.timeouts.totalMs ?? defaultHttpTimeouts.totalMs),
  );
  const attempt = async function* (): AsyncGenerator<Chunk> {
    try {
      const response = await postJson({
        provider,
        url,
        headers: settings.headers,
        json: body,
        secrets: settings.secrets,
        proxy: settings.proxy,
        signal,
        timeouts: { ...settings.timeouts, totalMs: deadline.remainingMs() },
      });
      const header = response.headers["content-type"];
      const contentType =
        (Array.isArray(header) ? header[0] : header) ??
        (body.stream === true ? "text/event-stream" : "application/json");
      const decoder = new TextDecoder();
      for await (const bytes of response.body) {
        const text = decoder.decode(bytes, { stream: true });
        if (text !== "") yield new NativeResponseText(text, contentType);
      }
      const rest = decoder.decode();
      if (rest !== "") yield new NativeResponseText(rest, contentType);
    } catch (error) {
      throw refineUpstreamError(error, { model, endpoint: url });
    }
  };
  return withRetries(attempt, { provider, policy: settings.retry, signal });
}
