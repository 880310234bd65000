import type { Messages } from "./messages.js";
import type { AsyncGeneratorProvider, ProviderOptions } from "./provider.js";
import {
  type Chunk,
  chunkText,
  FinishReason,
  ImageResponse,
  Reasoning,
  ResponseChunk,
  Usage,
} from "./response-chunks.js";

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
  finishReason: string | undefined;
  usage: Usage | undefined;
  /** Every non-text chunk, in order (including the ones above). */
  chunks: ResponseChunk[];
}

/** An empty completion, to which {@link addToCompletion} adds chunks. */
export function emptyCompletion(): Completion {
  return {
    text: "",
    content: "",
    reasoning: "",
    images: [],
    imagePrompts: [],
    finishReason: undefined,
    usage: undefined,
    chunks: [],
  };
}

/**
 * Add one chunk to a completion. Chunk kinds are told apart with each class's
 * `isInstance`, so chunks made by another copy of this package count too.
 */
export function addToCompletion(completion: Completion, chunk: Chunk): void {
  if (typeof chunk === "string") {
    completion.text += chunk;
    completion.content += chunk;
    return;
  }
  if (!ResponseChunk.isInstance(chunk)) return;
  completion.chunks.push(chunk);
  if (ImageResponse.isInstance(chunk)) {
    completion.images.push(...chunk.images);
    completion.imagePrompts.push(chunk.alt);
    completion.content += chunkText(chunk);
  } else if (Reasoning.isInstance(chunk)) {
    completion.reasoning += chunk.text;
  } else if (FinishReason.isInstance(chunk)) {
    completion.finishReason = chunk.reason;
  } else if (Usage.isInstance(chunk)) {
    completion.usage = chunk;
  }
}

/** The completion a list of chunks makes (what a registry answers a non-streaming client). */
export function completionOf(chunks: Iterable<Chunk>): Completion {
  const completion = emptyCompletion();
  for (const chunk of chunks) addToCompletion(completion, chunk);
  return completion;
}

/**
 * Call a provider and collect its answer: the text, reasoning, images, finish reason and usage.
 *
 * @example
 * const { text } = await createCompletion(amigoChat, "gpt-4o-mini", [{ role: "user", content: "Hi" }]);
 */
export async function createCompletion(
  provider: AsyncGeneratorProvider,
  model: string,
  messages: Messages,
  options?: ProviderOptions,
): Promise<Completion> {
  const completion = emptyCompletion();
  for await (const chunk of provider.createAsyncGenerator(model, messages, options)) {
    addToCompletion(completion, chunk);
  }
  return completion;
}
