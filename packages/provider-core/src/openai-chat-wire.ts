import { z } from "zod";
import type { HttpResponse } from "./http-client.js";
import {
  ConnectionError,
  InvalidResponseError,
  StreamInterruptedError,
  TimeoutError,
} from "./provider-errors.js";
import { type Chunk, FinishReason, Reasoning, Usage } from "./response-chunks.js";
import { formatSchemaIssues } from "./schema-errors.js";
import { decodeSseStream } from "./sse-events.js";
import { errorFromPayload, redactSecrets } from "./status-errors.js";

const usageSchema = z.object({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
});

/** One OpenAI-style `chat.completion.chunk`, read tolerantly: a choice may carry `text` instead of `delta`. */
export const openAIChatChunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            reasoning: z.string().nullish(),
          })
          .nullish(),
        text: z.string().nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish(),
});

/** An OpenAI-style `chat.completion` JSON answer. */
export const openAIChatCompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z
          .object({
            content: z.string().nullish(),
            reasoning_content: z.string().nullish(),
          })
          .nullish(),
        text: z.string().nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish(),
});

export type OpenAIChatChunk = z.infer<typeof openAIChatChunkSchema>;
export type OpenAIChatCompletion = z.infer<typeof openAIChatCompletionSchema>;

function toUsage(usage: z.infer<typeof usageSchema>): Usage {
  return new Usage({
    promptTokens: usage.prompt_tokens ?? undefined,
    completionTokens: usage.completion_tokens ?? undefined,
    totalTokens: usage.total_tokens ?? undefined,
  });
}

export interface OpenAIChatReadOptions {
  provider: string;
  /** A `data:` line that is not JSON: skip it (default) or fail. */
  invalidJson?: "skip" | "fail";
  secrets?: readonly string[];
}

function isEventStream(response: HttpResponse): boolean {
  const type = response.headers["content-type"];
  return (Array.isArray(type) ? type.join(",") : (type ?? "")).includes("text/event-stream");
}

/**
 * Read an OpenAI-shaped chat answer, SSE or JSON (chosen by the content type, and by
 * the body's first character when the type says neither), as chunks: text deltas as
 * they arrive, `Reasoning`, `FinishReason`, `Usage`. An SSE stream that stops after
 * text arrived without `[DONE]` or a finish reason (a clean end or a broken socket)
 * is a `StreamInterruptedError` carrying the text so far: never a silent cut.
 */
export async function* readOpenAIChatResponse(
  response: HttpResponse,
  options: OpenAIChatReadOptions,
): AsyncGenerator<Chunk> {
  if (isEventStream(response)) {
    yield* readStream(response.body, options);
    return;
  }
  const text = await response.text();
  const start = text.trimStart();
  if (start.startsWith("data:") || start.startsWith("event:") || start.startsWith(":")) {
    yield* readStream(bytesOnce(Buffer.from(text)), options);
    return;
  }
  yield* readJsonCompletion(text, response.status, options);
}

async function* bytesOnce(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function* readStream(
  body: AsyncIterable<Uint8Array>,
  options: OpenAIChatReadOptions,
): AsyncGenerator<Chunk> {
  const { provider } = options;
  const events = decodeSseStream(body, { ...options, schema: openAIChatChunkSchema });
  let partialText = "";
  let finished = false;
  try {
    for await (const event of events) {
      if (event.usage != null) yield toUsage(event.usage);
      for (const choice of event.choices ?? []) {
        const reasoning = choice.delta?.reasoning_content ?? choice.delta?.reasoning;
        if (reasoning) yield new Reasoning(reasoning);
        const content = choice.delta?.content ?? choice.text;
        if (content) {
          partialText += content;
          yield content;
        }
        if (choice.finish_reason) {
          finished = true;
          yield new FinishReason(choice.finish_reason);
        }
      }
    }
  } catch (error) {
    // A broken socket or a stall after text leaves an incomplete answer: say so, and
    // keep the text that did arrive (the timeout stays readable as the cause).
    if (
      (ConnectionError.isInstance(error) || TimeoutError.isInstance(error)) &&
      partialText !== ""
    ) {
      throw new StreamInterruptedError({
        provider,
        partialText,
        cause: error,
        message: `The stream from ${provider} broke off after ${partialText.length} characters: ${error.message}`,
      });
    }
    throw error;
  }
  if (!events.done && !finished && partialText !== "") {
    throw new StreamInterruptedError({ provider, partialText });
  }
}

function* readJsonCompletion(
  text: string,
  status: number,
  options: OpenAIChatReadOptions,
): Generator<Chunk> {
  const { provider } = options;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidResponseError({
      provider,
      status,
      message: `${provider} answered with a body that is neither JSON nor SSE: ${JSON.stringify(redactSecrets(text.trim().slice(0, 120), options.secrets))}`,
    });
  }
  if (typeof json === "object" && json !== null && "error" in json && json.error != null) {
    throw errorFromPayload(provider, json, options.secrets);
  }
  const parsed = openAIChatCompletionSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidResponseError({
      provider,
      status,
      message: `${provider} answered with an unexpected shape: ${formatSchemaIssues(parsed.error)}`,
    });
  }
  const choice = parsed.data.choices?.[0];
  const reasoning = choice?.message?.reasoning_content;
  if (reasoning) yield new Reasoning(reasoning);
  const content = choice?.message?.content ?? choice?.text;
  if (content) yield content;
  if (choice?.finish_reason) yield new FinishReason(choice.finish_reason);
  if (parsed.data.usage != null) yield toUsage(parsed.data.usage);
}
