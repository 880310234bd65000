// A complete provider for an OpenAI-shaped upstream, in the core's own terms, and a
// call of it through createCompletion. The core's test runs it against a local server.
// In your own code, import from "@g4f-ts/provider-core" instead.
import {
  type AsyncGeneratorProvider,
  type Chunk,
  createCompletion,
  type Messages,
  ModelCatalog,
  type ProviderOptions,
  postJson,
  readOpenAIChatResponse,
  withRetries,
} from "../src/index.js";

export class Example extends ModelCatalog implements AsyncGeneratorProvider {
  readonly id = "example";
  readonly label = "Example";
  readonly url = "https://example.invalid";
  readonly working = true;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth = false;

  constructor(readonly baseUrl: string) {
    super({ label: "Example", defaultModel: "small", chatModels: ["small", "large"] });
  }

  async *createAsyncGenerator(
    model: string,
    messages: Messages,
    options: ProviderOptions = {},
  ): AsyncGenerator<Chunk> {
    const json = { model: this.getModel(model), messages, stream: options.stream ?? false };
    // Retries what can succeed on a retry (refused, 429, 5xx, timeouts), never after text.
    yield* withRetries(
      () =>
        // SSE or JSON, text deltas, FinishReason, Usage, an error inside a 200 answer:
        // one generator from socket to caller, the response closed however it ends.
        readOpenAIChatResponse(
          postJson({
            provider: this.label,
            url: `${this.baseUrl}/v1/chat/completions`,
            json,
            signal: options.signal,
          }),
          { provider: this.label },
        ),
      { provider: this.label, signal: options.signal },
    );
  }
}

/** Ask once; returns the whole answer's text and its usage. */
export async function main(baseUrl: string) {
  const provider = new Example(baseUrl);
  return createCompletion(provider, "small", [{ role: "user", content: "Hello!" }], {
    stream: true,
  });
}
