import { BatchedChunks } from "./chunk-batches.js";
import { closesWithResponse, type HttpResponse, readyPiece } from "./http-client.js";
import {
  isPlainOpenAIChatChunk,
  type OpenAIChatChunk,
  OpenAIChatChunkMapper,
  openAIChatChunkSchema,
  openAIChatCompletionSchema,
} from "./openai-chat-chunks.js";
import { OpenAIChatDeltaTemplate, TemplatedTextDelta } from "./openai-chat-delta-template.js";
import {
  ConnectionError,
  InvalidResponseError,
  StreamInterruptedError,
  TimeoutError,
} from "./provider-errors.js";
import type { Chunk } from "./response-chunks.js";
import { formatSchemaIssues } from "./schema-errors.js";
import { redactSecrets } from "./secret-redaction.js";
import { drainAfterDone, type SseDecodeOptions, SseEventDecoder } from "./sse-events.js";
import { errorFromPayload, upstreamSnippet } from "./status-errors.js";

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
 * they arrive, `Reasoning`, `Refusal`, tool calls (`ToolCallDelta` pieces from a
 * stream, `ToolCalls` from JSON), `Logprobs`, `FinishReason`, `Usage` with its
 * details, and a `ResponseMetadata`; choices after the first wrapped in
 * `ChoiceChunk`s (see `OpenAIChatChunkMapper`). An SSE stream that stops without
 * `[DONE]` while a choice has content but no finish reason (a clean end or a broken
 * socket) is a `StreamInterruptedError` carrying the count of characters so far
 * (text, reasoning, refusals and tool calls alike) and the end of the text: never a
 * silent cut. The reading keeps counts, never the whole text, so a stream's memory
 * stays flat however long it runs.
 *
 * It takes the response or the promise of one, so that a provider's attempt can be
 * `() => readOpenAIChatResponse(postJson(…), options)`: one generator from socket
 * to caller, and the response is closed however the reading ends. The answer also
 * offers its batched view (see `chunkBatchesOf`): the chunks of one network read
 * as one array.
 *
 * @example
 * yield* withRetries(() => readOpenAIChatResponse(postJson({ provider, url, json }), { provider }), { provider });
 */
export function readOpenAIChatResponse(
  response: HttpResponse | Promise<HttpResponse>,
  options: OpenAIChatReadOptions,
): BatchedChunks {
  // The reading reports a failed request; a reader never started must not leave
  // that failure unhandled.
  if (response instanceof Promise) response.catch(ignore);
  return new BatchedChunks(() => readChatAnswer(response, options));
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
  return new ReadOptionsWithSecrets(options, answer);
}

// A class rather than a spread with a getter: one is made per call.
class ReadOptionsWithSecrets implements OpenAIChatReadOptions {
  readonly provider: string;
  readonly invalidJson: "skip" | "fail" | undefined;
  readonly #options: OpenAIChatReadOptions;
  readonly #answer: HttpResponse;
  #secrets: readonly string[] | undefined;

  constructor(options: OpenAIChatReadOptions, answer: HttpResponse) {
    this.provider = options.provider;
    this.invalidJson = options.invalidJson;
    this.#options = options;
    this.#answer = answer;
  }

  get secrets(): readonly string[] {
    this.#secrets ??= [...(this.#answer.secrets ?? []), ...(this.#options.secrets ?? [])];
    return this.#secrets;
  }
}

/**
 * The SSE decoder's options of one answer. Not a spread of the read options (that
 * would work out the secrets of every call), and a class rather than an object
 * literal with a getter, which costs about thirty times as much to make.
 */
class ChatDecodeOptions implements SseDecodeOptions<OpenAIChatChunk | TemplatedTextDelta> {
  readonly provider: string;
  readonly schema = openAIChatChunkSchema;
  readonly accepts = isPlainOpenAIChatChunk;
  /** Text deltas that repeat an earlier one but for their text skip the parse. */
  readonly shortcut = new OpenAIChatDeltaTemplate();
  readonly invalidJson: "skip" | "fail" | undefined;
  readonly #options: OpenAIChatReadOptions;

  constructor(options: OpenAIChatReadOptions) {
    this.provider = options.provider;
    this.invalidJson = options.invalidJson;
    this.#options = options;
  }

  get secrets(): readonly string[] | undefined {
    return this.#options.secrets;
  }
}

/** The chunks of one answer, a batch per piece of its body (see `ChunkBatchSource`). */
async function* readChatAnswer(
  response: HttpResponse | Promise<HttpResponse>,
  callerOptions: OpenAIChatReadOptions,
): AsyncGenerator<Chunk[]> {
  const answer = await response;
  const options = withRequestSecrets(callerOptions, answer);
  try {
    let body = answer.body;
    if (!isEventStream(answer)) {
      const text = await answer.text();
      const start = text.trimStart();
      if (!(start.startsWith("data:") || start.startsWith("event:") || start.startsWith(":"))) {
        const chunks = readJsonCompletion(text, answer.status, options);
        if (chunks.length > 0) yield chunks;
        return;
      }
      body = bytesOnce(Buffer.from(text));
    }
    // One loop from socket to caller: the SSE decoder is synchronous, so each piece
    // of the body costs one await however many events it completes.
    const { provider } = options;
    const decoder = new SseEventDecoder<OpenAIChatChunk | TemplatedTextDelta>(
      new ChatDecodeOptions(options),
    );
    const iterator = body[Symbol.asyncIterator]();
    // The content passed on is counted and only the end of its text kept, for the
    // error of a cut stream: tool-call pieces, refusals and reasoning count as
    // content as text does.
    const mapper = new OpenAIChatChunkMapper();
    let ended = false;
    try {
      while (!decoder.done) {
        let events: (OpenAIChatChunk | TemplatedTextDelta)[];
        try {
          // A piece already queued is taken at once, without a promise (see readyPiece).
          let next = readyPiece(iterator);
          if (next === undefined) next = await iterator.next();
          ended = next.done === true;
          events = ended ? decoder.end() : decoder.push(next.value as Uint8Array);
        } catch (error) {
          // A broken socket or a stall after content leaves an incomplete answer: say so,
          // and keep the text that did arrive (the timeout stays readable as the cause).
          if (
            (ConnectionError.isInstance(error) || TimeoutError.isInstance(error)) &&
            mapper.contentCharacters > 0
          ) {
            throw new StreamInterruptedError({
              provider,
              partialText: mapper.text.text(),
              receivedCharacters: mapper.contentCharacters,
              cause: error,
              message: `The stream from ${provider} broke off after ${mapper.contentCharacters} characters: ${error.message}`,
            });
          }
          throw error;
        }
        if (events.length > 0) {
          const chunks: Chunk[] = [];
          for (const event of events) {
            if (event instanceof TemplatedTextDelta) event.pushTo(mapper, chunks);
            else mapper.pushEvent(event, chunks);
          }
          if (chunks.length > 0) yield chunks;
        }
        // A failure held back behind the events of this piece comes after their chunks.
        decoder.check();
        if (ended) break;
      }
      if (decoder.done) {
        const draining = drainAfterDone(iterator);
        if (draining !== undefined) await draining;
      }
    } finally {
      // Stop reading (and release the socket) when the consumer leaves early. A
      // call's own body is released by the `answer.close()` below, without a promise.
      if (!closesWithResponse(iterator, answer)) await iterator.return?.();
    }
    // Without [DONE], every choice that had content must have finished.
    if (!decoder.done && mapper.unfinished) {
      throw new StreamInterruptedError({
        provider,
        partialText: mapper.text.text(),
        receivedCharacters: mapper.contentCharacters,
      });
    }
  } finally {
    answer.close();
  }
}

async function* bytesOnce(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function readJsonCompletion(text: string, status: number, options: OpenAIChatReadOptions): Chunk[] {
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
  return [...new OpenAIChatChunkMapper().completion(parsed.data)];
}
