// A complete g4f-ts provider: it answers with the text of your last message, word by
// word, so it needs no network and no key. See docs/writing-a-provider.md.
import {
  AbortError,
  contentText,
  defineProviderPlugin,
  FinishReason,
  ImageResponse,
  lastMessageText,
  ModelCatalog,
  ProviderError,
  Usage,
} from "@g4f-ts/provider-core";

/**
 * @typedef {object} EchoOptions
 * @property {string} [id] The id in a registry (default "echo").
 * @property {string} [label] The name in messages and errors (default "Echo").
 */

/** The provider: `ModelCatalog` gives it `models`, `getModels()` and `getModel()`. */
export class EchoProvider extends ModelCatalog {
  /** @param {EchoOptions} [options] */
  constructor(options = {}) {
    const label = options.label ?? "Echo";
    super({
      label,
      defaultModel: "echo",
      chatModels: ["echo", "shout"],
      imageModels: ["echo-image"],
      modelAliases: { loud: "shout" },
    });
    this.id = options.id ?? "echo";
    this.label = label;
    this.url = "https://www.npmjs.com/package/g4f-ts-provider-echo";
    this.working = true;
    this.supportsStream = true;
    this.supportsSystemMessage = true;
    this.supportsMessageHistory = true;
    this.needsAuth = false;
  }

  /**
   * Answer with the last message: text deltas (one per word), then a finish reason
   * and the usage. `echo-image` answers with one SVG image showing the prompt.
   *
   * @param {string} model
   * @param {import("@g4f-ts/provider-core").Messages} messages
   * @param {import("@g4f-ts/provider-core").ProviderOptions} [options]
   * @returns {AsyncGenerator<import("@g4f-ts/provider-core").Chunk>}
   */
  async *createAsyncGenerator(model, messages, options = {}) {
    // An unknown name throws ModelNotSupportedError, with close names as suggestions.
    const resolved = this.getModel(model);
    const last = messages.at(-1);
    if (last === undefined) {
      throw new ProviderError({
        provider: this.label,
        message: `${this.label}: there is nothing to echo, the conversation is empty`,
      });
    }
    if (this.isImageModel(resolved)) {
      const prompt = lastMessageText(messages);
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="64"><text x="8" y="40">${escapeXml(prompt)}</text></svg>`;
      yield new ImageResponse([`data:image/svg+xml,${encodeURIComponent(svg)}`], prompt);
      return;
    }
    const text = contentText(last.content);
    const answer = resolved === "shout" ? text.toUpperCase() : text;
    const words = answer.split(/(?<=\s)/).filter((word) => word !== "");
    for (const word of words) {
      // A real provider passes the signal to its HTTP call; here we check it ourselves.
      if (options.signal?.aborted) {
        throw new AbortError({ provider: this.label, cause: options.signal.reason });
      }
      yield word;
    }
    yield new FinishReason("stop");
    const promptWords = messages.map((message) => contentText(message.content)).join(" ");
    yield new Usage({
      promptTokens: promptWords.split(/\s+/).filter(Boolean).length,
      completionTokens: words.length,
    });
  }
}

/** @param {string} text */
function escapeXml(text) {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** What a registry imports: the package.json field "g4f-ts".provider names this module. */
export const providerPlugin = defineProviderPlugin({
  name: "echo",
  createProvider: (options) => new EchoProvider(options),
});
