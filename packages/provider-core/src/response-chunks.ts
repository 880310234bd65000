import type { ToolCall } from "./messages.js";

const chunkMarker = Symbol.for("g4f-ts.response-chunk");
const imageMarker = Symbol.for("g4f-ts.response-chunk.ImageResponse");
const finishReasonMarker = Symbol.for("g4f-ts.response-chunk.FinishReason");
const usageMarker = Symbol.for("g4f-ts.response-chunk.Usage");
const reasoningMarker = Symbol.for("g4f-ts.response-chunk.Reasoning");
const toolCallDeltaMarker = Symbol.for("g4f-ts.response-chunk.ToolCallDelta");
const toolCallsMarker = Symbol.for("g4f-ts.response-chunk.ToolCalls");
const refusalMarker = Symbol.for("g4f-ts.response-chunk.Refusal");
const logprobsMarker = Symbol.for("g4f-ts.response-chunk.Logprobs");
const metadataMarker = Symbol.for("g4f-ts.response-chunk.ResponseMetadata");
const choiceMarker = Symbol.for("g4f-ts.response-chunk.ChoiceChunk");

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === "object" && value !== null && marker in value;
}

/**
 * The base of every non-text chunk a provider yields. A text delta is a plain
 * `string`; everything else is a subclass, so consumers tell them apart with
 * `instanceof` (as g4f's users do with `isinstance`) or, across two copies of this
 * package in one `node_modules`, with each class's static `isInstance`.
 *
 * A chunk kind that is part of the answer a client sees (text, images, reasoning)
 * says so with `carriesContent`: the first such chunk is the point after which a
 * provider never retries and a registry never falls back. A new content kind
 * overrides it, and both places follow without a change.
 */
export abstract class ResponseChunk {
  readonly [chunkMarker] = true;
  abstract readonly type: string;

  /** True when this chunk is part of the answer (not metadata such as usage). */
  get carriesContent(): boolean {
    return false;
  }

  static isInstance(value: unknown): value is ResponseChunk {
    return hasMarker(value, chunkMarker);
  }
}

/** Generated images: their URLs and the prompt (g4f's `alt`). */
export class ImageResponse extends ResponseChunk {
  readonly [imageMarker] = true;
  readonly type = "image";
  constructor(
    readonly images: string[],
    readonly alt: string,
    readonly options: Record<string, unknown> = {},
  ) {
    super();
  }

  /** The prompt the images were made from (an alias of `alt`). */
  get prompt(): string {
    return this.alt;
  }

  override get carriesContent(): boolean {
    return this.images.length > 0;
  }

  static override isInstance(value: unknown): value is ImageResponse {
    return hasMarker(value, imageMarker);
  }
}

/** Why the model stopped: `stop`, `length`, `content_filter`, `tool_calls`, or the upstream's word. */
export class FinishReason extends ResponseChunk {
  readonly [finishReasonMarker] = true;
  readonly type = "finish-reason";
  constructor(readonly reason: string) {
    super();
  }

  static override isInstance(value: unknown): value is FinishReason {
    return hasMarker(value, finishReasonMarker);
  }
}

/** The counts of a `Usage`, as a provider reports them. */
export interface UsageCounts {
  promptTokens?: number | undefined;
  completionTokens?: number | undefined;
  totalTokens?: number | undefined;
  /** The upstream's `prompt_tokens_details` (`cached_tokens`, `audio_tokens`, …), as sent. */
  promptTokensDetails?: Readonly<Record<string, unknown>> | undefined;
  /** The upstream's `completion_tokens_details` (`reasoning_tokens`, …), as sent. */
  completionTokensDetails?: Readonly<Record<string, unknown>> | undefined;
  /** True when the counts are a guess (characters / 4), not the upstream's. */
  estimated?: boolean | undefined;
  /**
   * The upstream's other usage keys, as sent (DeepSeek's `prompt_cache_hit_tokens`,
   * OpenRouter's `cost`, Groq's `queue_time`); undefined when it sent none.
   */
  extra?: Readonly<Record<string, unknown>> | undefined;
}

/** Token counts of a completion, as the upstream reported them (or, when `estimated`, as guessed). */
export class Usage extends ResponseChunk {
  readonly [usageMarker] = true;
  readonly type = "usage";
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly promptTokensDetails: Readonly<Record<string, unknown>> | undefined;
  readonly completionTokensDetails: Readonly<Record<string, unknown>> | undefined;
  readonly estimated: boolean;
  /** The upstream's other usage keys, as sent; see `UsageCounts.extra`. */
  readonly extra: Readonly<Record<string, unknown>> | undefined;
  constructor(usage: UsageCounts) {
    super();
    this.promptTokens = usage.promptTokens ?? 0;
    this.completionTokens = usage.completionTokens ?? 0;
    this.totalTokens = usage.totalTokens ?? this.promptTokens + this.completionTokens;
    this.promptTokensDetails = usage.promptTokensDetails;
    this.completionTokensDetails = usage.completionTokensDetails;
    this.estimated = usage.estimated ?? false;
    this.extra = usage.extra;
  }

  static override isInstance(value: unknown): value is Usage {
    return hasMarker(value, usageMarker);
  }
}

/** A piece of the model's visible reasoning, kept apart from the answer's text. */
export class Reasoning extends ResponseChunk {
  readonly [reasoningMarker] = true;
  readonly type = "reasoning";
  constructor(readonly text: string) {
    super();
  }

  override get carriesContent(): boolean {
    return this.text.length > 0;
  }

  static override isInstance(value: unknown): value is Reasoning {
    return hasMarker(value, reasoningMarker);
  }
}

/**
 * A piece of a streamed tool call, as OpenAI streams them: the first piece of a
 * call carries its `index`, `id` and `name`; later pieces of the same `index` add
 * to its `arguments` text. A consumer joins the pieces by index.
 */
export class ToolCallDelta extends ResponseChunk {
  readonly [toolCallDeltaMarker] = true;
  readonly type = "tool-call-delta";
  readonly index: number;
  readonly id: string | undefined;
  readonly name: string | undefined;
  /** The next piece of the arguments' JSON text ("" when this piece has none). */
  readonly arguments: string;
  /**
   * True for the legacy single `function_call` (before tools; it has no id), which
   * a client that sent `functions` expects back as `function_call`, not `tool_calls`.
   */
  readonly legacyFunctionCall: boolean;
  constructor(delta: {
    index: number;
    id?: string | undefined;
    name?: string | undefined;
    arguments?: string | undefined;
    legacyFunctionCall?: boolean | undefined;
  }) {
    super();
    this.index = delta.index;
    this.id = delta.id;
    this.name = delta.name;
    this.arguments = delta.arguments ?? "";
    this.legacyFunctionCall = delta.legacyFunctionCall ?? false;
  }

  override get carriesContent(): boolean {
    return this.id !== undefined || this.name !== undefined || this.arguments !== "";
  }

  static override isInstance(value: unknown): value is ToolCallDelta {
    return hasMarker(value, toolCallDeltaMarker);
  }
}

/** Whole tool calls, as a JSON answer gives them (g4f's `ToolCalls`). */
export class ToolCalls extends ResponseChunk {
  readonly [toolCallsMarker] = true;
  readonly type = "tool-calls";
  constructor(readonly calls: readonly ToolCall[]) {
    super();
  }

  override get carriesContent(): boolean {
    return this.calls.length > 0;
  }

  static override isInstance(value: unknown): value is ToolCalls {
    return hasMarker(value, toolCallsMarker);
  }
}

/**
 * The model declined to answer (OpenAI's `refusal`): a successful answer, shown to
 * the client as such, never an upstream failure.
 */
export class Refusal extends ResponseChunk {
  readonly [refusalMarker] = true;
  readonly type = "refusal";
  constructor(readonly text: string) {
    super();
  }

  override get carriesContent(): boolean {
    return this.text.length > 0;
  }

  static override isInstance(value: unknown): value is Refusal {
    return hasMarker(value, refusalMarker);
  }
}

/**
 * Log probabilities of the tokens just streamed, as the upstream sent them
 * (`{ content: [{ token, logprob, bytes, top_logprobs }], refusal }`).
 */
export class Logprobs extends ResponseChunk {
  readonly [logprobsMarker] = true;
  readonly type = "logprobs";
  constructor(
    readonly content: readonly Readonly<Record<string, unknown>>[] | null,
    readonly refusal: readonly Readonly<Record<string, unknown>>[] | null = null,
  ) {
    super();
  }

  static override isInstance(value: unknown): value is Logprobs {
    return hasMarker(value, logprobsMarker);
  }
}

/**
 * Facts about the upstream's answer a client may want kept: its
 * `system_fingerprint`, the `service_tier` that served it, its own id and model.
 */
export class ResponseMetadata extends ResponseChunk {
  readonly [metadataMarker] = true;
  readonly type = "response-metadata";
  readonly systemFingerprint: string | undefined;
  readonly serviceTier: string | undefined;
  readonly id: string | undefined;
  readonly model: string | undefined;
  constructor(metadata: {
    systemFingerprint?: string | undefined;
    serviceTier?: string | undefined;
    id?: string | undefined;
    model?: string | undefined;
  }) {
    super();
    this.systemFingerprint = metadata.systemFingerprint;
    this.serviceTier = metadata.serviceTier;
    this.id = metadata.id;
    this.model = metadata.model;
  }

  static override isInstance(value: unknown): value is ResponseMetadata {
    return hasMarker(value, metadataMarker);
  }
}

/**
 * A chunk of choice `index` of a call with `n` > 1. Choice 0's chunks are yielded
 * bare, as in a call with one choice; only the others are wrapped, so that a
 * consumer that knows nothing of choices reads choice 0 as before.
 */
export class ChoiceChunk extends ResponseChunk {
  readonly [choiceMarker] = true;
  readonly type = "choice";
  constructor(
    readonly index: number,
    readonly chunk: Chunk,
  ) {
    super();
  }

  override get carriesContent(): boolean {
    return isContentChunk(this.chunk);
  }

  static override isInstance(value: unknown): value is ChoiceChunk {
    return hasMarker(value, choiceMarker);
  }
}

/** What a provider yields: a text delta, or one of the response classes. */
export type Chunk = string | ResponseChunk;

/** The result of `createAsyncGenerator`: an async iterable of chunks. */
export type AsyncResult = AsyncIterable<Chunk>;

/**
 * True for a chunk that carries answer content (text, images, reasoning, tool
 * calls, a refusal, and any
 * later kind whose `carriesContent` says so), as opposed to metadata. The one test
 * behind both "a provider never retries after content" and a registry's commit point.
 */
export function isContentChunk(chunk: Chunk): boolean {
  if (typeof chunk === "string") return chunk.length > 0;
  return ResponseChunk.isInstance(chunk) && chunk.carriesContent === true;
}

// g4f's quote_title: whitespace runs become one space. Brackets would end the alt early.
function altText(alt: string): string {
  return alt.replace(/[[\]]/g, "").split(/\s+/).filter(Boolean).join(" ");
}

// Characters that would end a markdown link target early.
function linkTarget(url: string): string {
  return url.replace(
    /[\s()<>]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

/**
 * Images as g4f writes them into chat text (`format_images_markdown`): one image is
 * `[![alt](url)](url)`; several are one such line each, their alt prefixed `#1 `,
 * `#2 `, …
 *
 * @example
 * imageMarkdown(new ImageResponse(["https://x/a.png"], "a cat")) // "[![a cat](https://x/a.png)](https://x/a.png)"
 */
export function imageMarkdown(image: ImageResponse): string {
  const alt = altText(image.alt);
  const { images } = image;
  if (images.length === 1) {
    const url = linkTarget(images[0] as string);
    return `[![${alt}](${url})](${url})`;
  }
  return images
    .map((raw, index) => {
      const url = linkTarget(raw);
      return `[![#${index + 1} ${alt}](${url})](${url})`;
    })
    .join("\n");
}

/** The text a chat client shows for a chunk: a text delta, images as markdown, or "" for anything else. */
export function chunkText(chunk: Chunk): string {
  if (typeof chunk === "string") return chunk;
  return ImageResponse.isInstance(chunk) && chunk.images.length > 0 ? imageMarkdown(chunk) : "";
}
