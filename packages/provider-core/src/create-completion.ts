import type { Messages } from "./messages.js";
import type { AsyncGeneratorProvider, ProviderOptions } from "./provider.js";
import { ResponseTooLargeError } from "./provider-errors.js";
import {
  FinishReason,
  ImageResponse,
  Reasoning,
  type ResponseChunk,
  Usage,
} from "./response-chunks.js";
import { TextAccumulator } from "./text-accumulator.js";

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
 * Call a provider and collect its answer: the text, images, finish reason and usage,
 * up to `options.maxCharacters`.
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
  const completion: Completion = {
    text: "",
    images: [],
    imagePrompts: [],
    finishReason: undefined,
    usage: undefined,
    chunks: [],
  };
  const text = new TextAccumulator(maxCharacters);
  let otherCharacters = 0;
  const tooLarge = () =>
    new ResponseTooLargeError({
      provider: provider.label,
      limit: maxCharacters,
      limitName: "maxCharacters",
      message: `The answer of ${provider.label} passed the limit of ${maxCharacters} characters (maxCharacters); stream it to receive longer answers`,
    });
  // Leaving the loop early (the throw) ends the provider's generator, which closes its socket.
  for await (const chunk of provider.createAsyncGenerator(model, messages, providerOptions)) {
    if (typeof chunk === "string") {
      if (!text.append(chunk) || text.length + otherCharacters > maxCharacters) throw tooLarge();
      continue;
    }
    otherCharacters += chunkOverheadCharacters + chunkCharacters(chunk);
    if (text.length + otherCharacters > maxCharacters) throw tooLarge();
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
  completion.text = text.toString();
  return completion;
}

function chunkCharacters(chunk: ResponseChunk): number {
  if (chunk instanceof Reasoning) return chunk.text.length;
  if (chunk instanceof ImageResponse) {
    let characters = chunk.alt.length;
    for (const url of chunk.images) characters += url.length;
    return characters;
  }
  return 0;
}
