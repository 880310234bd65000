import {
  type AsyncGeneratorProvider,
  CallPipeline,
  type Chunk,
  defineProviderPlugin,
  type HttpProviderOptions,
  type Messages,
  ModelCatalog,
  openAISamplingFields,
  type ProviderOptions,
} from "../src/index.js";

/** `baseUrl` is the API origin; `proxy`, `retry` and `timeouts` go to the pipeline as they are. */
export interface AcmeOptions extends HttpProviderOptions {
  id?: string;
  baseUrl?: string;
  apiKey?: string;
}

export class Acme extends ModelCatalog implements AsyncGeneratorProvider {
  readonly id: string;
  readonly label = "Acme";
  readonly url = "https://acme.example";
  readonly working = true;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth: boolean;
  readonly #options: AcmeOptions;
  readonly #pipeline: CallPipeline;

  constructor(options: AcmeOptions = {}) {
    const models = { defaultModel: "acme-small", chatModels: ["acme-small", "acme-large"] };
    super({ label: "Acme", ...models, modelAliases: { large: "acme-large" } });
    this.id = options.id ?? "acme";
    this.needsAuth = options.apiKey !== undefined;
    this.#options = options;
    this.#pipeline = new CallPipeline({ ...options, provider: "Acme" });
  }

  async *createAsyncGenerator(
    model: string,
    messages: Messages,
    options: ProviderOptions = {},
  ): AsyncGenerator<Chunk> {
    const call = this.#pipeline.start(messages, options, this.capabilities(this.getModel(model)));
    const body = { model: this.getModel(model), messages, stream: call.options.stream ?? false };
    const { apiKey, baseUrl = "https://api.acme.example" } = this.#options;
    yield* call.chat({
      url: `${baseUrl}/v1/chat/completions`,
      body: { ...body, ...openAISamplingFields(call.options) },
      headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` },
    });
  }
}

export const providerPlugin = defineProviderPlugin({
  name: "acme",
  createProvider: (options) => new Acme(options as AcmeOptions | undefined),
});
