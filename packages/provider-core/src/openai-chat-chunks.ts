import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { ToolCall } from "./messages.js";
import {
  ChoiceChunk,
  type Chunk,
  FinishReason,
  Logprobs,
  Reasoning,
  Refusal,
  ResponseMetadata,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "./response-chunks.js";
import { TextTail } from "./text-tail.js";

const detailsSchema = z.record(z.string(), z.unknown()).nullish();

// Loose: the keys an upstream adds beside the counts (DeepSeek's
// `prompt_cache_hit_tokens`, OpenRouter's `cost`) are kept in `Usage.extra`.
const usageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
  prompt_tokens_details: detailsSchema,
  completion_tokens_details: detailsSchema,
});

const logprobEntriesSchema = z.array(z.record(z.string(), z.unknown())).nullish();

// A choice's `logprobs`; the legacy completions shape (`tokens`, `token_logprobs`)
// has neither list and is passed over.
const logprobsSchema = z.object({ content: logprobEntriesSchema, refusal: logprobEntriesSchema });

// Most upstreams send `arguments` as JSON text; a few send the object itself.
const argumentsSchema = z.union([z.string(), z.record(z.string(), z.unknown())]).nullish();

const functionCallPieceSchema = z.object({
  name: z.string().nullish(),
  arguments: argumentsSchema,
});

const toolCallPieceSchema = z.object({
  index: z.number().nullish(),
  id: z.string().nullish(),
  function: functionCallPieceSchema.nullish(),
});

const wholeToolCallSchema = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: functionCallPieceSchema.nullish(),
});

const answerFields = {
  id: z.string().nullish(),
  model: z.string().nullish(),
  system_fingerprint: z.string().nullish(),
  service_tier: z.string().nullish(),
  usage: usageSchema.nullish(),
};

// What a streamed delta and a whole message share, beside their tool calls.
const messageFields = {
  content: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
  refusal: z.string().nullish(),
  function_call: functionCallPieceSchema.nullish(),
};

// What a choice of a chunk and of a whole answer share, beside its delta or message.
const choiceFields = {
  index: z.number().nullish(),
  text: z.string().nullish(),
  logprobs: logprobsSchema.nullish(),
  finish_reason: z.string().nullish(),
};

/** One OpenAI-style `chat.completion.chunk`, read tolerantly: a choice may carry `text` instead of `delta`. */
export const openAIChatChunkSchema = z.object({
  ...answerFields,
  choices: z
    .array(
      z.object({
        ...choiceFields,
        delta: z
          .object({ ...messageFields, tool_calls: z.array(toolCallPieceSchema).nullish() })
          .nullish(),
      }),
    )
    .nullish(),
});

/** An OpenAI-style `chat.completion` JSON answer. */
export const openAIChatCompletionSchema = z.object({
  ...answerFields,
  choices: z
    .array(
      z.object({
        ...choiceFields,
        message: z
          .object({ ...messageFields, tool_calls: z.array(wholeToolCallSchema).nullish() })
          .nullish(),
      }),
    )
    .nullish(),
});

const isNullishString = (value: unknown): boolean => value == null || typeof value === "string";
// zod's `number()` refuses the infinities (and NaN), which `JSON.parse` makes of `1e999`.
const isNullishNumber = (value: unknown): boolean =>
  value == null || (typeof value === "number" && Number.isFinite(value));
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * True for usage with nothing but the three counts, each a number or null: the
 * schema passes it unchanged (it is loose, so no key is stripped either). The
 * details records and an upstream's own keys are left to the schema.
 */
function isPlainUsage(usage: unknown): boolean {
  if (!isObject(usage)) return false;
  for (const key in usage) {
    if (key !== "prompt_tokens" && key !== "completion_tokens" && key !== "total_tokens")
      return false;
    if (!isNullishNumber(usage[key])) return false;
  }
  return true;
}

/** The fields a chunk's and an answer's top level share (see `answerFields`), usage plain or none. */
function hasPlainAnswerFields(json: Record<string, unknown>): boolean {
  return (
    isNullishString(json.id) &&
    isNullishString(json.model) &&
    isNullishString(json.system_fingerprint) &&
    isNullishString(json.service_tier) &&
    (json.usage == null || isPlainUsage(json.usage))
  );
}

/** The fields a chunk's and an answer's choice share (see `choiceFields`), without logprobs. */
function hasPlainChoiceFields(choice: Record<string, unknown>): boolean {
  return (
    isNullishNumber(choice.index) &&
    isNullishString(choice.text) &&
    isNullishString(choice.finish_reason) &&
    choice.logprobs == null
  );
}

/** A delta or a message with text, reasoning or a refusal only, each a string or null. */
function isPlainMessage(message: unknown): boolean {
  if (message == null) return true;
  return (
    isObject(message) &&
    isNullishString(message.content) &&
    isNullishString(message.reasoning_content) &&
    isNullishString(message.reasoning) &&
    isNullishString(message.refusal) &&
    message.tool_calls == null &&
    message.function_call == null
  );
}

/**
 * True for the common stream event, text or reasoning deltas, finish reasons and
 * usage with its three counts, without tool calls or logprobs, when every field
 * `openAIChatChunkSchema` reads has the schema's type: such an event passes the
 * schema unchanged but for the keys the schema strips, which the mapper never
 * reads. Anything else is left to the schema, so a reader that uses this check to
 * skip the schema (the zod pass per delta was a tenth of a long stream's CPU)
 * accepts and rejects exactly as before.
 */
export function isPlainOpenAIChatChunk(json: unknown): json is OpenAIChatChunk {
  return isPlainAnswer(json, "delta");
}

/**
 * {@link isPlainOpenAIChatChunk} for a whole `chat.completion` (its choices carry a
 * `message`): true when `openAIChatCompletionSchema` would pass it unchanged but
 * for the keys it strips, so that a JSON answer is mapped without a zod pass (the
 * largest single piece of a short JSON call's own work). Tool calls, logprobs,
 * usage details and any wrongly typed field are left to the schema.
 */
export function isPlainOpenAIChatCompletion(json: unknown): json is OpenAIChatCompletion {
  return isPlainAnswer(json, "message");
}

function isPlainAnswer(json: unknown, content: "delta" | "message"): boolean {
  if (!isObject(json) || !hasPlainAnswerFields(json)) return false;
  const choices = json.choices;
  if (choices == null) return true;
  if (!Array.isArray(choices)) return false;
  for (const choice of choices) {
    if (!isObject(choice) || !hasPlainChoiceFields(choice) || !isPlainMessage(choice[content]))
      return false;
  }
  return true;
}

export type OpenAIChatChunk = z.infer<typeof openAIChatChunkSchema>;
export type OpenAIChatCompletion = z.infer<typeof openAIChatCompletionSchema>;
type UsageFields = z.infer<typeof usageSchema>;
type LogprobsFields = z.infer<typeof logprobsSchema>;
type FunctionCallPiece = z.infer<typeof functionCallPieceSchema>;

const usageKeys = new Set([
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "prompt_tokens_details",
  "completion_tokens_details",
]);

function toUsage(usage: UsageFields): Usage {
  let extra: Record<string, unknown> | undefined;
  for (const key in usage) {
    if (usageKeys.has(key) || usage[key] === undefined) continue;
    extra ??= {};
    extra[key] = usage[key];
  }
  return new Usage({
    promptTokens: usage.prompt_tokens ?? undefined,
    completionTokens: usage.completion_tokens ?? undefined,
    totalTokens: usage.total_tokens ?? undefined,
    promptTokensDetails: usage.prompt_tokens_details ?? undefined,
    completionTokensDetails: usage.completion_tokens_details ?? undefined,
    extra,
  });
}

function argumentsText(value: FunctionCallPiece["arguments"]): string {
  if (value == null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function logprobsOf(logprobs: LogprobsFields): Logprobs | undefined {
  if (logprobs.content == null && logprobs.refusal == null) return undefined;
  return new Logprobs(logprobs.content ?? null, logprobs.refusal ?? null);
}

/**
 * Maps the events of one OpenAI-shaped answer (the chunks of a stream, or one JSON
 * completion) to chunks: text, `Reasoning`, `Refusal`, `ToolCallDelta` /
 * `ToolCalls`, `Logprobs`, `FinishReason`, `Usage`, and a `ResponseMetadata` when
 * the answer's id, model, `system_fingerprint` or `service_tier` is first seen or
 * changes. Choice 0's chunks are bare; another choice's are each wrapped in a
 * `ChoiceChunk` with its index.
 *
 * It keeps what the reader needs for a cut stream, counts and a bounded tail,
 * never the answer itself: the characters of content of every choice (text,
 * reasoning, refusals, tool-call names and arguments), choice 0's text tail, and
 * which choices have content without a finish reason yet.
 */
export class OpenAIChatChunkMapper {
  /** Characters of content of every choice so far. */
  contentCharacters = 0;
  /** The end of choice 0's text, for the error of a cut stream. */
  readonly text = new TextTail();
  // Choices with content and no finish reason yet, as a bit per index below 32 and a
  // set beyond: the common single-choice stream costs an integer operation.
  #open = 0;
  #openBeyond: Set<number> | undefined;
  #id: string | undefined;
  #model: string | undefined;
  #systemFingerprint: string | undefined;
  #serviceTier: string | undefined;

  /** True while some choice has content but no finish reason. */
  get unfinished(): boolean {
    return this.#open !== 0 || (this.#openBeyond !== undefined && this.#openBeyond.size > 0);
  }

  /** The chunks of one stream event, pushed onto `chunks` in the order a client shows them. */
  pushEvent(event: OpenAIChatChunk, chunks: Chunk[]): void {
    this.#pushMetadata(event, chunks);
    if (event.usage != null) chunks.push(toUsage(event.usage));
    const choices = event.choices;
    if (choices == null) return;
    for (let position = 0; position < choices.length; position++) {
      const choice = choices[position] as NonNullable<OpenAIChatChunk["choices"]>[number];
      const index = choice.index ?? position;
      const delta = choice.delta;
      const reasoning = delta?.reasoning_content ?? delta?.reasoning;
      if (reasoning) this.#push(chunks, index, new Reasoning(reasoning), reasoning.length);
      // A choice with a delta is read from the delta alone (its content may be null); `text` is for choices without one.
      const content = delta != null ? delta.content : choice.text;
      if (content) {
        if (index === 0) this.text.append(content);
        this.#push(chunks, index, content, content.length);
      }
      if (delta != null) {
        if (delta.refusal) {
          this.#push(chunks, index, new Refusal(delta.refusal), delta.refusal.length);
        }
        const pieces = delta.tool_calls;
        if (pieces != null) {
          for (let piece = 0; piece < pieces.length; piece++) {
            const call = pieces[piece] as NonNullable<typeof pieces>[number];
            this.#pushToolCallPiece(chunks, index, call.index ?? piece, call.id, call.function);
          }
        }
        if (delta.function_call != null) {
          this.#pushToolCallPiece(chunks, index, 0, undefined, delta.function_call, true);
        }
      }
      if (choice.logprobs != null) {
        const logprobs = logprobsOf(choice.logprobs);
        if (logprobs !== undefined) this.#push(chunks, index, logprobs, 0);
      }
      if (choice.finish_reason) this.#finish(chunks, index, choice.finish_reason);
    }
  }

  /**
   * The chunks of an event that is `template` but for its content (see
   * `OpenAIChatDeltaTemplate`: one choice, index 0, nothing but text), as
   * `pushEvent` makes them of that event.
   */
  pushTemplatedText(template: OpenAIChatChunk, content: string, chunks: Chunk[]): void {
    this.#pushMetadata(template, chunks);
    if (content) {
      this.text.append(content);
      this.#push(chunks, 0, content, content.length);
    }
  }

  /** The chunks of a JSON completion, in the order a client shows them; usage last. */
  *completion(completion: OpenAIChatCompletion): Generator<Chunk> {
    yield* this.completionChunks(completion);
  }

  /** {@link OpenAIChatChunkMapper.completion}'s chunks as one array, without a generator. */
  completionChunks(completion: OpenAIChatCompletion): Chunk[] {
    const chunks: Chunk[] = [];
    this.#pushMetadata(completion, chunks);
    const choices = completion.choices ?? [];
    for (let position = 0; position < choices.length; position++) {
      const choice = choices[position] as NonNullable<OpenAIChatCompletion["choices"]>[number];
      const index = choice.index ?? position;
      const message = choice.message;
      const reasoning = message?.reasoning_content ?? message?.reasoning;
      if (reasoning) this.#push(chunks, index, new Reasoning(reasoning), reasoning.length);
      const content = message != null ? message.content : choice.text;
      if (content) {
        if (index === 0) this.text.append(content);
        this.#push(chunks, index, content, content.length);
      }
      if (message?.refusal) {
        this.#push(chunks, index, new Refusal(message.refusal), message.refusal.length);
      }
      const calls = wholeToolCalls(message?.tool_calls);
      if (calls.length > 0) this.#push(chunks, index, new ToolCalls(calls), 1);
      if (message?.function_call != null) {
        this.#pushToolCallPiece(chunks, index, 0, undefined, message.function_call, true);
      }
      if (choice.logprobs != null) {
        const logprobs = logprobsOf(choice.logprobs);
        if (logprobs !== undefined) this.#push(chunks, index, logprobs, 0);
      }
      if (choice.finish_reason) this.#finish(chunks, index, choice.finish_reason);
    }
    if (completion.usage != null) chunks.push(toUsage(completion.usage));
    return chunks;
  }

  #pushToolCallPiece(
    chunks: Chunk[],
    choice: number,
    index: number,
    id: string | null | undefined,
    piece: FunctionCallPiece | null | undefined,
    legacyFunctionCall = false,
  ): void {
    const delta = new ToolCallDelta({
      index,
      id: id ?? undefined,
      name: piece?.name ?? undefined,
      arguments: argumentsText(piece?.arguments),
      legacyFunctionCall,
    });
    // A piece with nothing in it (an index alone) says nothing a client could use.
    if (!delta.carriesContent) return;
    this.#push(chunks, choice, delta, delta.arguments.length + (delta.name?.length ?? 0) || 1);
  }

  #push(chunks: Chunk[], index: number, chunk: Chunk, characters: number): void {
    if (characters > 0) {
      this.contentCharacters += characters;
      if (index < 32) this.#open |= 1 << index;
      else {
        this.#openBeyond ??= new Set();
        this.#openBeyond.add(index);
      }
    }
    chunks.push(index === 0 ? chunk : new ChoiceChunk(index, chunk));
  }

  #finish(chunks: Chunk[], index: number, reason: string): void {
    if (index < 32) this.#open &= ~(1 << index);
    else this.#openBeyond?.delete(index);
    const finish = new FinishReason(reason);
    chunks.push(index === 0 ? finish : new ChoiceChunk(index, finish));
  }

  // One `ResponseMetadata` when the answer's facts are first seen, and again when one
  // changes. An empty string is no fact (Azure's first chunk has `"id": "", "model": ""`).
  #pushMetadata(answer: z.infer<z.ZodObject<typeof answerFields>>, chunks: Chunk[]): void {
    const id = answer.id || this.#id;
    const model = answer.model || this.#model;
    const systemFingerprint = answer.system_fingerprint || this.#systemFingerprint;
    const serviceTier = answer.service_tier || this.#serviceTier;
    if (
      id === this.#id &&
      model === this.#model &&
      systemFingerprint === this.#systemFingerprint &&
      serviceTier === this.#serviceTier
    ) {
      return;
    }
    this.#id = id;
    this.#model = model;
    this.#systemFingerprint = systemFingerprint;
    this.#serviceTier = serviceTier;
    chunks.push(new ResponseMetadata({ id, model, systemFingerprint, serviceTier }));
  }
}

function wholeToolCalls(
  calls: z.infer<typeof wholeToolCallSchema>[] | null | undefined,
): ToolCall[] {
  if (calls == null) return [];
  const whole: ToolCall[] = [];
  for (const call of calls) {
    // A call of another type (a custom tool) has no function to name.
    if (call.function == null || (call.type != null && call.type !== "function")) continue;
    whole.push({
      // A client answers a call by its id: an upstream that gives none gets one.
      id: call.id ?? `call_${randomUUID().replaceAll("-", "")}`,
      type: "function",
      function: {
        name: call.function.name ?? "",
        arguments: argumentsText(call.function.arguments),
      },
    });
  }
  return whole;
}
