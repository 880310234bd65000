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
import { redactSecrets } from "./secret-redaction.js";
import { drainAfterDone, SseEventDecoder } from "./sse-events.js";
import { errorFromPayload, upstreamSnippet } from "./status-errors.js";
import { TextTail } from "./text-tail.js";

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
 * is a `StreamInterruptedError` carrying the count of characters so far and their
 * end: never a silent cut. The reading keeps counts, never the whole text, so a
 * stream's memory stays flat however long it runs.
 *
 * It takes the response or the promise of one, so that a provider's attempt can be
 * `() => readOpenAIChatResponse(postJson(…), options)`: one generator from socket
 * to caller, and the response is closed however the reading ends.
 *
 * @example
 * yield* withRetries(() => readOpenAIChatResponse(postJson({ provider, url, json }), { provider }), { provider });
 */
export function readOpenAIChatResponse(
  response: HttpResponse | Promise<HttpResponse>,
  options: OpenAIChatReadOptions,
): AsyncGenerator<Chunk> {
  // The reading reports a failed request; a reader never started must not leave
  // that failure unhandled.
  if (response instanceof Promise) response.catch(ignore);
  return readChatAnswer(response, options);
}

function ignore(): void {}

/**
 * The caller's options, with the request's own secrets (its headers, its proxy)
 * added, worked out only when an error needs them.
 */
function withRequestSecrets(
  options: OpenAIChatReadOptions,
  answer: HttpResponse,
): OpenAIChatReadOptions {
  if (!("secrets" in answer)) return options;
  let merged: readonly string[] | undefined;
  return {
    ...options,
    get secrets() {
      merged ??= [...(answer.secrets ?? []), ...(options.secrets ?? [])];
      return merged;
    },
  };
}

async function* readChatAnswer(
  response: HttpResponse | Promise<HttpResponse>,
  callerOptions: OpenAIChatReadOptions,
): AsyncGenerator<Chunk> {
  const answer = await response;
  const options = withRequestSecrets(callerOptions, answer);
  try {
    let body = answer.body;
    if (!isEventStream(answer)) {
      const text = await answer.text();
      const start = text.trimStart();
      if (!(start.startsWith("data:") || start.startsWith("event:") || start.startsWith(":"))) {
        yield* readJsonCompletion(text, answer.status, options);
        return;
      }
      body = bytesOnce(Buffer.from(text));
    }
    // One loop from socket to caller: the SSE decoder is synchronous, so each piece
    // of the body costs one await however many events it completes.
    const { provider } = options;
    // Not a spread of `options`: that would work out the secrets of every call.
    const decoder = new SseEventDecoder({
      provider,
      schema: openAIChatChunkSchema,
      invalidJson: options.invalidJson,
      get secrets() {
        return options.secrets;
      },
    });
    const iterator = body[Symbol.asyncIterator]();
    const chunks: Chunk[] = [];
    // The text passed on is counted and only its end kept, for the error of a cut stream.
    const partial = new TextTail();
    let finished = false;
    let ended = false;
    try {
      while (!decoder.done) {
        let events: OpenAIChatChunk[];
        try {
          const next = await iterator.next();
          ended = next.done === true;
          events = ended ? decoder.end() : decoder.push(next.value as Uint8Array);
        } catch (error) {
          // A broken socket or a stall after text leaves an incomplete answer: say so,
          // and keep the text that did arrive (the timeout stays readable as the cause).
          if (
            (ConnectionError.isInstance(error) || TimeoutError.isInstance(error)) &&
            partial.length > 0
          ) {
            throw new StreamInterruptedError({
              provider,
              partialText: partial.text(),
              receivedCharacters: partial.length,
              cause: error,
              message: `The stream from ${provider} broke off after ${partial.length} characters: ${error.message}`,
            });
          }
          throw error;
        }
        for (const event of events) chunksOfEvent(event, chunks);
        for (const chunk of chunks) {
          if (typeof chunk === "string") partial.append(chunk);
          else if (chunk instanceof FinishReason) finished = true;
          yield chunk;
        }
        chunks.length = 0;
        decoder.check();
        if (ended) break;
      }
      if (decoder.done) await drainAfterDone(iterator);
    } finally {
      // Stop reading (and release the socket) when the consumer leaves early.
      await iterator.return?.();
    }
    if (!decoder.done && !finished && partial.length > 0) {
      throw new StreamInterruptedError({
        provider,
        partialText: partial.text(),
        receivedCharacters: partial.length,
      });
    }
  } finally {
    answer.close();
  }
}

async function* bytesOnce(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The chunks one decoded event carries, in the order a client shows them. */
function chunksOfEvent(event: OpenAIChatChunk, chunks: Chunk[]): void {
  if (event.usage != null) chunks.push(toUsage(event.usage));
  // The first choice only, as the reference reads it: a second choice (n > 1) is
  // another answer, and joining it to the first would garble both.
  const choice = event.choices?.[0];
  if (choice == null) return;
  const delta = choice.delta;
  const reasoning = delta?.reasoning_content ?? delta?.reasoning;
  if (reasoning) chunks.push(new Reasoning(reasoning));
  // A choice with a delta is read from the delta alone (its content may be null); `text` is for choices without one.
  const content = delta != null ? delta.content : choice.text;
  if (content) chunks.push(content);
  if (choice.finish_reason) chunks.push(new FinishReason(choice.finish_reason));
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
      message: `${provider} answered with a body that is neither JSON nor SSE: ${JSON.stringify(upstreamSnippet(text, options.secrets, 120))}`,
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
      message: `${provider} answered with an unexpected shape: ${redactSecrets(formatSchemaIssues(parsed.error), options.secrets)}`,
    });
  }
  const choice = parsed.data.choices?.[0];
  const reasoning = choice?.message?.reasoning_content;
  if (reasoning) yield new Reasoning(reasoning);
  const message = choice?.message;
  const content = message != null ? message.content : choice?.text;
  if (content) yield content;
  if (choice?.finish_reason) yield new FinishReason(choice.finish_reason);
  if (parsed.data.usage != null) yield toUsage(parsed.data.usage);
}
