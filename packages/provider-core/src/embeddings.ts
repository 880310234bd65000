import { ResponseChunk } from "./response-chunks.js";

/*
 * The optional embeddings capability of the contract: a provider that serves
 * embedding models lists them in `embeddingModels` and implements
 * `createEmbeddings`. A registry routes `POST /v1/embeddings` to such providers
 * only; a provider without it is a chat (and image) provider as before.
 */

/**
 * What to embed, as OpenAI's `input` takes it: one text, several texts, one list
 * of token ids, or several lists of token ids.
 */
export type EmbeddingInput = string | string[] | number[] | number[][];

/** How a vector is sent back: a list of numbers, or base64 of little-endian float32 values. */
export type EmbeddingEncodingFormat = "float" | "base64";

/** Options of one embeddings call. */
export interface EmbeddingOptions {
  /** `float` (default) or `base64`; a provider forwards it, or encodes the floats itself. */
  encodingFormat?: EmbeddingEncodingFormat;
  /** The length of each vector, for models that can shorten theirs. */
  dimensions?: number;
  /** The end user, for the upstream's abuse monitoring. */
  user?: string;
  /** Seconds the whole call may take. */
  timeout?: number;
  /** Cancels the call and closes its socket at once. */
  signal?: AbortSignal;
}

/** One vector: numbers, or (with `encodingFormat: "base64"`) their base64 as float32. */
export type EmbeddingVector = number[] | string;

/** The answer of an embeddings call: one vector per input, in input order. */
export interface Embeddings {
  /** The vectors, `vectors[i]` for input `i`. */
  vectors: EmbeddingVector[];
  /** The model that answered, as the upstream named it. */
  model?: string | undefined;
  /** Token counts, when the upstream reported them. */
  usage?: { promptTokens: number; totalTokens: number } | undefined;
}

/** A provider that makes embeddings. */
export interface EmbeddingProvider {
  /** The models that answer `createEmbeddings`: none of them is a chat model. */
  readonly embeddingModels: readonly string[];
  /**
   * Embed `input` with `model` (one of `embeddingModels`). Failures are
   * `ProviderError`s, as a chat call's are; an `encodingFormat` of `base64` gives
   * base64 strings whether the upstream made them or the provider encoded its floats.
   */
  createEmbeddings(
    model: string,
    input: EmbeddingInput,
    options?: EmbeddingOptions,
  ): Promise<Embeddings>;
}

/** True when `provider` has the embeddings capability. */
export function supportsEmbeddings<Value extends object>(
  provider: Value,
): provider is Value & EmbeddingProvider {
  const candidate = provider as Partial<EmbeddingProvider>;
  return (
    Array.isArray(candidate.embeddingModels) && typeof candidate.createEmbeddings === "function"
  );
}

/**
 * A vector of numbers as OpenAI writes it for `encoding_format: "base64"`: the
 * bytes of little-endian float32 values, in base64.
 *
 * @example
 * float32Base64([1, 0]) // "AACAPwAAAAA="
 */
export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [index, value] of vector.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString("base64");
}

/** The numbers of a base64 float32 vector (the inverse of {@link float32Base64}). */
export function float32FromBase64(encoded: string): number[] {
  const bytes = Buffer.from(encoded, "base64");
  const vector: number[] = [];
  for (let offset = 0; offset + 4 <= bytes.length; offset += 4)
    vector.push(bytes.readFloatLE(offset));
  return vector;
}

const embeddingsMarker = Symbol.for("g4f-ts.response-chunk.EmbeddingsResponse");

/**
 * A whole embeddings answer as a chunk, for machinery that runs on chunk streams
 * (the core's retries, a registry's fallback): the answer is content, so nothing
 * retries after it has arrived.
 */
export class EmbeddingsResponse extends ResponseChunk {
  readonly [embeddingsMarker] = true;
  readonly type = "embeddings";
  constructor(readonly embeddings: Embeddings) {
    super();
  }

  override get carriesContent(): boolean {
    return true;
  }

  static override isInstance(value: unknown): value is EmbeddingsResponse {
    return typeof value === "object" && value !== null && embeddingsMarker in value;
  }
}
