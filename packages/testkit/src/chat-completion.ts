import type { FakeAnswer } from "./answer-delivery.js";
import type { FakeRoute } from "./fake-server.js";
import { resolveReplyChunks } from "./reply-text.js";
import { jsonObjectBody } from "./request-body.js";
import type { RecordedRequest } from "./test-server.js";

/** The `id` of every completion the fakes produce. */
export const FAKE_COMPLETION_ID = "chatcmpl-fake";

/** The `created` of every fake answer: fixed, so snapshots stay stable. (2025-01-01T00:00:00Z) */
export const FAKE_CREATED = 1735689600;

export interface ChatUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export interface ChatCompletionAnswerOptions {
  readonly model: string;
  /** The `messages` of the request, only read to count prompt tokens. */
  readonly messages: unknown;
  readonly chunks: readonly string[];
  readonly stream: boolean;
  /** Append a `{"choices":[],"usage":{...}}` chunk before `[DONE]`. */
  readonly streamUsage: boolean;
  /** Where a streamed choice carries its text: OpenAI's `delta.content`, or a bare `text`. */
  readonly textField: "delta" | "text";
}

// A rough 4 characters a token: the fakes only need counts that are stable and plausible.
function tokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

function messageText(message: unknown): string {
  if (typeof message !== "object" || message === null || !("content" in message)) return "";
  const { content } = message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) =>
      typeof part === "object" && part !== null && "text" in part && typeof part.text === "string"
        ? part.text
        : "",
    )
    .join("");
}

function usageOf(messages: unknown, completion: string): ChatUsage {
  const prompt = Array.isArray(messages) ? messages.map(messageText).join("") : "";
  const promptTokens = tokenCount(prompt);
  const completionTokens = tokenCount(completion);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function chunkEnvelope(model: string, rest: object): object {
  return {
    id: FAKE_COMPLETION_ID,
    object: "chat.completion.chunk",
    created: FAKE_CREATED,
    model,
    ...rest,
  };
}

function streamedChoice(
  textField: "delta" | "text",
  content: string | undefined,
  finishReason: "stop" | null,
): object {
  const text =
    textField === "delta"
      ? { delta: content === undefined ? {} : { content } }
      : { text: content ?? "" };
  return { index: 0, ...text, finish_reason: finishReason };
}

function completionBody(model: string, content: string, usage: ChatUsage): object {
  return {
    id: FAKE_COMPLETION_ID,
    object: "chat.completion",
    created: FAKE_CREATED,
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage,
  };
}

/**
 * The healthy answer to an OpenAI-style chat completion request: SSE chunks (one per reply
 * chunk, a `finish_reason: "stop"` chunk, maybe a usage chunk) or a `chat.completion` JSON.
 */
export function chatCompletionAnswer(options: ChatCompletionAnswerOptions): FakeAnswer {
  const { model, chunks, textField } = options;
  const text = chunks.join("");
  const usage = usageOf(options.messages, text);
  if (!options.stream) {
    return {
      type: "json",
      status: 200,
      body: completionBody(model, text, usage),
      emptyBody: completionBody(model, "", usageOf(options.messages, "")),
    };
  }
  const contentEvents = chunks.map((content) =>
    chunkEnvelope(model, { choices: [streamedChoice(textField, content, null)] }),
  );
  const closingEvents = [
    chunkEnvelope(model, { choices: [streamedChoice(textField, undefined, "stop")] }),
  ];
  if (options.streamUsage) closingEvents.push(chunkEnvelope(model, { choices: [], usage }));
  return { type: "stream", contentEvents, closingEvents };
}

/** The fields of a chat completion request the fakes act on. */
export interface ChatRequestFields {
  readonly model: string;
  readonly messages: unknown;
  readonly stream: boolean;
  readonly body: Record<string, unknown>;
}

/** Reads a chat completion request, or undefined when the body is not an object with a string `model`. */
export function parseChatRequest(request: RecordedRequest): ChatRequestFields | undefined {
  const body = jsonObjectBody(request);
  if (body === undefined || typeof body.model !== "string") return undefined;
  return { model: body.model, messages: body.messages, stream: body.stream === true, body };
}

export interface ChatCompletionRouteOptions {
  /** The fake's answer to a body that is not an object with a string `model`. */
  readonly invalidBody: FakeAnswer;
  /** Whether a streamed answer to this request body ends with a usage chunk. */
  streamUsage(body: Record<string, unknown>): boolean;
  readonly textField: "delta" | "text";
}

/** `POST /v1/chat/completions` as every OpenAI-style fake answers it. */
export function chatCompletionRoute(options: ChatCompletionRouteOptions): FakeRoute {
  return {
    method: "POST",
    path: "/v1/chat/completions",
    answer: (request, reply) => {
      const chat = parseChatRequest(request);
      if (chat === undefined) return options.invalidBody;
      return chatCompletionAnswer({
        model: chat.model,
        messages: chat.messages,
        chunks: resolveReplyChunks(reply, request),
        stream: chat.stream,
        streamUsage: options.streamUsage(chat.body),
        textField: options.textField,
      });
    },
  };
}
