const chunkMarker = Symbol.for("g4f-ts.response-chunk");

/**
 * The base of every non-text chunk a provider yields. A text delta is a plain
 * `string`; everything else is a subclass, so consumers tell them apart with
 * `instanceof` (as g4f's users do with `isinstance`). `isInstance` works across
 * two copies of this package in one `node_modules`.
 */
export abstract class ResponseChunk {
  readonly [chunkMarker] = true;
  abstract readonly type: string;

  static isInstance(value: unknown): value is ResponseChunk {
    return typeof value === "object" && value !== null && chunkMarker in value;
  }
}

/** Generated images: their URLs and the prompt (g4f's `alt`). */
export class ImageResponse extends ResponseChunk {
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
}

/** Why the model stopped: `stop`, `length`, `content_filter`, `tool_calls`, or the upstream's word. */
export class FinishReason extends ResponseChunk {
  readonly type = "finish-reason";
  constructor(readonly reason: string) {
    super();
  }
}

/** Token counts of a completion, as the upstream reported them. */
export class Usage extends ResponseChunk {
  readonly type = "usage";
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  constructor(usage: { promptTokens?: number; completionTokens?: number; totalTokens?: number }) {
    super();
    this.promptTokens = usage.promptTokens ?? 0;
    this.completionTokens = usage.completionTokens ?? 0;
    this.totalTokens = usage.totalTokens ?? this.promptTokens + this.completionTokens;
  }
}

/** A piece of the model's visible reasoning, kept apart from the answer's text. */
export class Reasoning extends ResponseChunk {
  readonly type = "reasoning";
  constructor(readonly text: string) {
    super();
  }
}

/** What a provider yields: a text delta, or one of the response classes. */
export type Chunk = string | ResponseChunk;

/** The result of `createAsyncGenerator`: an async iterable of chunks. */
export type AsyncResult = AsyncIterable<Chunk>;

/** True for a chunk that carries answer content (text or images), as opposed to metadata. */
export function isContentChunk(chunk: Chunk): boolean {
  if (typeof chunk === "string") return chunk.length > 0;
  return chunk instanceof ImageResponse && chunk.images.length > 0;
}
