// A complete provider for an OpenAI-shaped upstream, in the core's own terms, and a
// call of it through createCompletion. The core's test runs it against a local server.
// In your own code, import from "@g4f-ts/provider-core" instead.
import {
  type AsyncGeneratorProvider,
  CallPipeline,
  type Chunk,
  createCompletion,
  type Messages,
  ModelCatalog,
  openAISamplingFields,
  type ProviderOptions,
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
  readonly #pipeline = new CallPipeline({ provider: "Example" });

  constructor(readonly baseUrl: string) {
    super({ label: "Example", defaultModel: "small", chatModels: ["small", "large"] });
  }

  async *createAsyncGenerator(
    model: string,
    messages: Messages,
    options: ProviderOptions = {},
  ): AsyncGenerator<Chunk> {
    // Strict options (a misspelt one is an InvalidOptionsError), the call's deadline.
    const call = this.#pipeline.start(messages, options);
    const body = { model: this.getModel(model), messages, stream: call.options.stream ?? false };
    // POST, retries (never after content), SSE or JSON read into chunks, the socket closed.
    yield* call.chat({
      url: `${this.baseUrl}/v1/chat/completions`,
      body: { ...body, ...openAISamplingFields(call.options) },
    });
  }
}

/** Ask once; returns the whole answer's text and its usage. */
export async function main(baseUrl: string) {
  const provider = new Example(baseUrl);
  return createCompletion(provider, "small", [{ role: "user", content: "Hello!" }], {
    stream: true,
  });
}
