import type { Messages } from "./messages.js";
import type { AsyncGeneratorProvider, ProviderOptions } from "./provider.js";
import { FinishReason, ImageResponse, type ResponseChunk, Usage } from "./response-chunks.js";

/** A whole answer, collected from a provider's chunks. */
export interface Completion {
  text: string;
  /** Every image URL, in order. */
  images: string[];
  /** The prompts of the image responses, in order. */
  imagePrompts: string[];
  finishReason: string | undefined;
  usage: Usage | undefined;
  /** Every non-text chunk, in order (including the ones above). */
  chunks: ResponseChunk[];
}

/**
 * Call a provider and collect its answer: the text, images, finish reason and usage.
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
  const completion: Completion = {
    text: "",
    images: [],
    imagePrompts: [],
    finishReason: undefined,
    usage: undefined,
    chunks: [],
  };
  for await (const chunk of provider.createAsyncGenerator(model, messages, options)) {
    if (typeof chunk === "string") {
      completion.text += chunk;
      continue;
    }
    completion.chunks.push(chunk);
    if (chunk instanceof ImageResponse) {
      completion.images.push(...chunk.images);
      completion.imagePrompts.push(chunk.alt);
    } else if (chunk instanceof FinishReason) {
      completion.finishReason = chunk.reason;
    } else if (chunk instanceof Usage) {
      completion.usage = chunk;
    }
  }
  return completion;
}
