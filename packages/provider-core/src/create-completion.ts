import type { Messages, ToolCall } from "./messages.js";
import type { AsyncGeneratorProvider, ProviderOptions } from "./provider.js";
import { ResponseTooLargeError } from "./provider-errors.js";
import {
  type Chunk,
  chunkText,
  FinishReason,
  ImageResponse,
  Reasoning,
  Refusal,
  ResponseChunk,
  ResponseMetadata,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "./response-chunks.js";
import { TextAccumulator } from "./text-accumulator.js";
import { ToolCallAssembler } from "./tool-call-assembler.js";

/** A whole answer, collected from a provider's chunks. */
export interface Completion {
  /** The text deltas, joined. */
  text: string;
  /**
   * The answer as a chat client shows it: the text deltas, with images written in
   * their place as g4f writes them (see `imageMarkdown`).
   */
  content: string;
  /** The visible reasoning, joined. */
  reasoning: string;
  /** Every image URL, in order. */
  images: string[];
  /** The prompts of the image responses, in order. */
  imagePrompts: string[];
  /** The tool calls the model made, whole (streamed pieces joined by index). */
  toolCalls: ToolCall[];
  /** The refusal, joined ("" when the model did not refuse). */
  refusal: string;
  /** The upstream's `system_fingerprint`, service tier, id and model, when it sent them. */
  metadata: ResponseMetadata | undefined;
  finishReason: string | undefined;
  usage: Usage | undefined;
  /** Every non-text chunk, in order (including the ones above). */
  chunks: ResponseChunk[];
}

/** The options of a call, and the cap of the collected answer. */
export type CompletionOptions = ProviderOptions & {
  /**
   * The most characters the answer may hold (default 32 MiB worth, 33554432): past
   * it the call stops and throws a `ResponseTooLargeError`, so an upstream that
   * never stops can not exhaust memory. Each non-text chunk counts as its text
   * plus 64 characters (what keeping it costs). Stream with `createAsyncGenerator`
   * for longer answers.
   */
  maxCharacters?: number;
};

/** The default cap of a collected answer, in characters. */
export const defaultMaxCompletionCharacters = 32 * 1024 * 1024;

const chunkOverheadCharacters = 64;

/**
 * Gathers a completion chunk by chunk. Text is kept as joined blocks, not one
 * string grown by `+=` (about 32 bytes a piece), and everything kept is counted
 * against `maxCharacters`. Chunk kinds are told apart with each class's
 * `isInstance`, so chunks made by another copy of this package count too.
 */
class CompletionGatherer {
  readonly #text = new TextAccumulator();
  readonly #content = new TextAccumulator();
  readonly #reasoning = new TextAccumulator();
  readonly #refusal = new TextAccumulator();
  readonly #toolCalls = new ToolCallAssembler();
  readonly #completion: Completion = {
    text: "",
    content: "",
    reasoning: "",
    images: [],
    imagePrompts: [],
    toolCalls: [],
    refusal: "",
    metadata: undefined,
    finishReason: undefined,
    usage: undefined,
    chunks: [],
  };
  /** Characters kept so far, against `maxCharacters`. */
  characters = 0;

  constructor(readonly maxCharacters: number) {}

  /** Add one chunk; false (and the chunk dropped) once the answer would pass the cap. */
  add(chunk: Chunk): boolean {
    if (typeof chunk === "string") {
      this.characters += chunk.length;
      if (this.characters > this.maxCharacters) return false;
      this.#text.append(chunk);
      this.#content.append(chunk);
      return true;
    }
    if (!ResponseChunk.isInstance(chunk)) return true;
    this.characters += chunkOverheadCharacters + chunkCharacters(chunk);
    if (this.characters > this.maxCharacters) return false;
    const completion = this.#completion;
    completion.chunks.push(chunk);
    if (ImageResponse.isInstance(chunk)) {
      completion.images.push(...chunk.images);
      completion.imagePrompts.push(chunk.alt);
      this.#content.append(chunkText(chunk));
    } else if (Reasoning.isInstance(chunk)) {
      this.#reasoning.append(chunk.text);
    } else if (Refusal.isInstance(chunk)) {
      this.#refusal.append(chunk.text);
    } else if (this.#toolCalls.add(chunk)) {
      // Joined when the completion is read.
    } else if (ResponseMetadata.isInstance(chunk)) {
      completion.metadata = chunk;
    } else if (FinishReason.isInstance(chunk)) {
      completion.finishReason = chunk.reason;
    } else if (Usage.isInstance(chunk)) {
      completion.usage = chunk;
    }
    return true;
  }

  completion(): Completion {
    const completion = this.#completion;
    completion.text = this.#text.toString();
    completion.content = this.#content.toString();
    completion.reasoning = this.#reasoning.toString();
    completion.refusal = this.#refusal.toString();
    completion.toolCalls = this.#toolCalls.toolCalls();
    return completion;
  }
}

/** The completion a list of chunks makes (what a registry answers a non-streaming client). */
export function completionOf(chunks: Iterable<Chunk>): Completion {
  const gatherer = new CompletionGatherer(Number.POSITIVE_INFINITY);
  for (const chunk of chunks) gatherer.add(chunk);
  return gatherer.completion();
}

/**
 * Call a provider and collect its answer: the text, reasoning, images, finish
 * reason and usage, up to `options.maxCharacters`.
 *
 * @example
 * const { text } = await createCompletion(amigoChat, "gpt-4o-mini", [{ role: "user", content: "Hi" }]);
 */
export async function createCompletion(
  provider: AsyncGeneratorProvider,
  model: string,
  messages: Messages,
  options?: CompletionOptions,
): Promise<Completion> {
  const { maxCharacters = defaultMaxCompletionCharacters, ...providerOptions } = options ?? {};
  const gatherer = new CompletionGatherer(maxCharacters);
  // Leaving the loop early (the throw) ends the provider's generator, which closes its socket.
  for await (const chunk of provider.createAsyncGenerator(model, messages, providerOptions)) {
    if (!gatherer.add(chunk))
      throw new ResponseTooLargeError({
        provider: provider.label,
        limit: maxCharacters,
        limitName: "maxCharacters",
        message: `The answer of ${provider.label} passed the limit of ${maxCharacters} characters (maxCharacters); stream it to receive longer answers`,
      });
  }
  return gatherer.completion();
}

function chunkCharacters(chunk: ResponseChunk): number {
  if (Reasoning.isInstance(chunk) || Refusal.isInstance(chunk)) return chunk.text.length;
  if (ToolCallDelta.isInstance(chunk)) return chunk.arguments.length + (chunk.name?.length ?? 0);
  if (ToolCalls.isInstance(chunk)) {
    let characters = 0;
    for (const call of chunk.calls)
      characters += call.function.name.length + call.function.arguments.length;
    return characters;
  }
  if (ImageResponse.isInstance(chunk)) {
    let characters = chunk.alt.length;
    for (const url of chunk.images) characters += url.length;
    return characters;
  }
  return 0;
}
