import {
  type AsyncGeneratorProvider,
  BatchedChunks,
  type BatchesOfAnswer,
  type Call,
  CallPipeline,
  type Chunk,
  chunkBatchesOf,
  type EmbeddingInput,
  type EmbeddingOptions,
  type EmbeddingProvider,
  type Embeddings,
  type Messages,
  type ModelCapabilities,
  type ProviderModelMixin,
  type ResponsesPassthroughOptions,
  type ResponsesPassthroughProvider,
} from "@g4f-ts/provider-core";
import { jsonBodyWithClientMessages } from "@g4f-ts/provider-core/internal";
import { OpenAICompatibleCapabilities } from "./openai-compatible-capabilities.js";
import { createOpenAICompatibleEmbeddings } from "./openai-compatible-embeddings.js";
import { refineUpstreamError } from "./openai-compatible-errors.js";
import { OpenAICompatibleModelList } from "./openai-compatible-model-list.js";
import {
  type OpenAICompatibleCallOptions,
  type OpenAICompatibleOptions,
  OpenAICompatibleOptionsError,
  type OpenAICompatibleSettings,
  openAICompatibleCallDefaults,
  openAICompatibleCallOptionsShape,
  parseOpenAICompatibleOptions,
} from "./openai-compatible-options.js";
import { forwardOpenAICompatibleResponse } from "./openai-compatible-responses.js";
import {
  imageUrlsOf,
  openAICompatibleChatBody,
  openAICompatibleImageAnswerSchema,
  openAICompatibleImageBody,
  openAICompatiblePaths,
  revisedPromptOf,
} from "./openai-compatible-wire.js";

/**
 * A provider for any upstream that speaks the OpenAI HTTP API: Ollama, vLLM,
 * llama.cpp's server, LM Studio, LocalAI, or a hosted service. Several instances
 * (different ids, base URLs and keys) live side by side: nothing is shared per
 * class but the core's connection pool.
 *
 * Chat goes to `POST {baseUrl}/chat/completions` (SSE or JSON), image models (those
 * named in `imageModels`) to `POST {baseUrl}/images/generations`, through the core's
 * `CallPipeline`: retryable failures (connection errors, timeouts, 408, 429, 5xx)
 * are retried with backoff, never after content; everything else fails at once with
 * a typed `ProviderError` that never holds the API key.
 *
 * Models: a fixed `models` list, or the list of `GET {baseUrl}/models` (fetched by
 * {@link OpenAICompatible.refreshModels} or by the first call, kept `modelsTtlMs`);
 * see {@link OpenAICompatible.getModel}.
 *
 * @example
 * const ollama = new OpenAICompatible({ id: "ollama", baseUrl: "http://127.0.0.1:11434/v1" });
 * await ollama.refreshModels();
 * for await (const chunk of ollama.createAsyncGenerator("llama3.2", messages, { stream: true })) {
 *   if (typeof chunk === "string") process.stdout.write(chunk);
 * }
 */
export class OpenAICompatible
  implements
    AsyncGeneratorProvider,
    ProviderModelMixin,
    EmbeddingProvider,
    ResponsesPassthroughProvider
{
  readonly id: string;
  readonly label: string;
  /** The origin of the base URL. */
  readonly url: string;
  /** The base URL, version included (`http://127.0.0.1:11434/v1`), without a trailing slash. */
  readonly baseUrl: string;
  readonly chatApiEndpoint: string;
  readonly imageApiEndpoint: string;
  readonly modelsEndpoint: string;
  readonly working: boolean;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth: boolean;
  /** How long a fetched model list stays fresh, in ms. */
  readonly modelsTtlMs: number;
  readonly #settings: OpenAICompatibleSettings;
  readonly #models: OpenAICompatibleModelList;
  readonly #capabilities: OpenAICompatibleCapabilities;
  readonly #pipeline: CallPipeline<typeof openAICompatibleCallOptionsShape>;
  /**
   * The headers of a JSON request: the configured ones, then `content-type` as the
   * transport adds it to a JSON body when they have none, made once rather than
   * copied per call (the same headers, in the same order).
   */
  readonly #jsonHeaders: Record<string, string>;

  /** Throws `OpenAICompatibleOptionsError` (naming the field) for an invalid option. */
  constructor(options: OpenAICompatibleOptions) {
    const settings = parseOpenAICompatibleOptions(options);
    this.#settings = settings;
    this.id = settings.id;
    this.label = settings.label;
    this.baseUrl = settings.baseUrl;
    this.url = new URL(settings.baseUrl).origin;
    this.chatApiEndpoint = `${settings.baseUrl}${openAICompatiblePaths.chat}`;
    this.imageApiEndpoint = `${settings.baseUrl}${openAICompatiblePaths.images}`;
    this.modelsEndpoint = `${settings.baseUrl}${openAICompatiblePaths.models}`;
    this.working = settings.working;
    this.needsAuth = settings.needsAuth;
    this.modelsTtlMs = settings.modelsTtlMs;
    this.#models = new OpenAICompatibleModelList(settings, this.modelsEndpoint);
    this.#capabilities = new OpenAICompatibleCapabilities(settings.capabilities);
    // The configured names are lower-cased when read.
    this.#jsonHeaders =
      "content-type" in settings.headers
        ? settings.headers
        : { ...settings.headers, "content-type": "application/json" };
    this.#pipeline = new CallPipeline({
      ...settings,
      provider: settings.label,
      options: openAICompatibleCallOptionsShape,
      optionsError: OpenAICompatibleOptionsError,
    });
  }

  get defaultModel(): string {
    return this.#models.catalog.defaultModel;
  }

  /** The image model of a request that names none: the first of `imageModels`. */
  get defaultImageModel(): string | undefined {
    return this.#models.catalog.defaultImageModel;
  }

  /** Every model known now: chat models, then image models. */
  get models(): readonly string[] {
    return this.#models.catalog.models;
  }

  get chatModels(): readonly string[] {
    return this.#models.catalog.chatModels;
  }

  get imageModels(): readonly string[] {
    return this.#models.catalog.imageModels;
  }

  /** Models answered through `POST {baseUrl}/embeddings` (the `embeddingModels` option). */
  get embeddingModels(): readonly string[] {
    return this.#settings.embeddingModels;
  }

  /**
   * Embed `input` with `model` (one of `embeddingModels`, or an alias of one) through
   * `POST {baseUrl}/embeddings`; see `createOpenAICompatibleEmbeddings`.
   */
  createEmbeddings(
    model: string,
    input: EmbeddingInput,
    options?: EmbeddingOptions,
  ): Promise<Embeddings> {
    const resolved = this.#settings.modelAliases[model] ?? model;
    return createOpenAICompatibleEmbeddings(this.#settings, resolved, input, options);
  }

  /** True when the instance forwards `/v1/responses` for `model` unchanged (`responsesApi: "native"`; not image models). */
  forwardsResponses(model: string): boolean {
    return this.#settings.responsesApi === "native" && !this.isImageModel(model);
  }

  /** Forward a Responses API request to `POST {baseUrl}/responses`; see `forwardOpenAICompatibleResponse`. */
  forwardResponse(
    body: Record<string, unknown>,
    options?: ResponsesPassthroughOptions,
  ): AsyncGenerator<Chunk> {
    return forwardOpenAICompatibleResponse(this.#settings, body, options);
  }

  get modelAliases(): Readonly<Record<string, string>> {
    return this.#models.catalog.modelAliases;
  }

  /**
   * Call `listener` after each change of the model list (a fetched list replacing the
   * one known), until the returned function is called; a fixed list never changes.
   */
  onModelsChange(listener: () => void): () => void {
    return this.#models.onChange(listener);
  }

  /**
   * The models known now, without a request: the fixed list, or the last fetched
   * one. Before a list was fetched, only `defaultModel` and `imageModels` (when
   * set); call {@link OpenAICompatible.refreshModels} first to get the full list.
   */
  getModels(): readonly string[] {
    return this.#models.catalog.models;
  }

  /**
   * Resolve a requested name: an empty name gives `defaultModel`, an alias its
   * target. With a known list (fixed, or fetched and not empty), any other name
   * must be on it, or it is a `ModelNotSupportedError` with close names. Before a
   * list is known, any other name passes through unchanged: the upstream decides.
   */
  getModel(name: string | undefined): string {
    return this.#models.getModel(name);
  }

  /** True when `model` (a resolved id) goes to the image endpoint. */
  isImageModel(model: string): boolean {
    return this.#models.catalog.isImageModel(model);
  }

  /**
   * What `model` (a resolved id) can do, as the `capabilities` option says: a chat
   * model everything unless configured otherwise, an image model `n`.
   */
  capabilities(model: string): ModelCapabilities {
    return this.#capabilities.of(model, this.isImageModel(model));
  }

  /**
   * Fetch the model list from `GET {baseUrl}/models` now and keep it for
   * `modelsTtlMs`; resolves with the models then known. With a fixed `models` list it
   * sends nothing. Concurrent callers share one request; `signal` stops the wait of
   * this caller, and once every caller has stopped waiting the request itself is
   * aborted (its socket closed), so no fetch outlives all who asked for it. A
   * failure rejects with its `ProviderError` and keeps the previous list, and the
   * next call tries again. A registry routes by the
   * synchronous `getModels()`: it calls this at start, before it builds its routes.
   */
  refreshModels(signal?: AbortSignal): Promise<readonly string[]> {
    return this.#models.refresh(signal);
  }

  /**
   * Answer a conversation. Chat models yield what the upstream sends (text deltas,
   * `Reasoning`, `Refusal`, tool calls, `Logprobs`, `FinishReason`, `Usage`,
   * `ResponseMetadata`; choices after the first of an `n` > 1 call in
   * `ChoiceChunk`s), a stream asking for usage with `stream_options.include_usage`;
   * image models yield one `ImageResponse` made from the text of the last message.
   * Messages and every call option go to the upstream unchanged, only those set; a
   * call asking the model for what its `capabilities` lack is refused naming the
   * field, before anything is sent. `stream` defaults to false; `timeout` (seconds)
   * bounds the whole call, retries included (default: the `totalMs` timeout, 300 s).
   * Without a fixed list, a call first fetches a missing or stale model list; a
   * failed fetch does not fail the call.
   */
  createAsyncGenerator(
    model: string,
    messages: Messages,
    options: OpenAICompatibleCallOptions = {},
  ): BatchedChunks {
    return new BatchedChunks(() => this.#answerBatches(model, messages, options));
  }

  // The answer as batches (see `chunkBatchesOf`): the pipeline's own, passed on whole.
  // Called at the first read, so a refused call fails there, as a generator would.
  // With a model list that needs no fetch (a fixed one, or one fetched within its
  // ttl) the pipeline's batches are the answer's, without a generator of this
  // provider in between; otherwise the call first waits for the list.
  #answerBatches(
    model: string,
    messages: Messages,
    options: OpenAICompatibleCallOptions,
  ): BatchesOfAnswer {
    const call = this.#pipeline.start(
      messages,
      options,
      this.#capabilities.ofRequested(model, this),
    );
    if (this.#models.isFresh()) return this.#answerOf(call, model, messages);
    return this.#answerAfterModelList(call, model, messages);
  }

  async *#answerAfterModelList(
    call: Call<typeof openAICompatibleCallOptionsShape>,
    model: string,
    messages: Messages,
  ): AsyncGenerator<readonly Chunk[]> {
    await this.#models.ensureFresh(call.signal, call.deadline.at);
    yield* chunkBatchesOf(this.#answerOf(call, model, messages));
  }

  #answerOf(
    call: Call<typeof openAICompatibleCallOptionsShape>,
    model: string,
    messages: Messages,
  ): BatchedChunks {
    const { secrets, label } = this.#settings;
    const headers = this.#jsonHeaders;
    const resolved = this.getModel(model);
    const options = call.options;
    if (this.isImageModel(resolved)) {
      const { size, ...callOptions } = options;
      const prompt = call.prompt(messages);
      // The call's extra fields (quality, style, response_format, …) go as they are; the named ones win.
      const body = {
        ...callOptions.extraBody,
        ...openAICompatibleImageBody({ model: resolved, prompt, n: callOptions.n, size }),
      };
      const refineError = (error: unknown) =>
        refineUpstreamError(error, { model: resolved, endpoint: this.imageApiEndpoint });
      const answer = { schema: openAICompatibleImageAnswerSchema, images: imageUrlsOf };
      const request = { url: this.imageApiEndpoint, body, headers, secrets, refineError };
      return call.image({ ...request, ...answer, prompt, imageOptions: revisedPromptOf });
    }
    // The call's options go as they are (no copy of them per call): their features
    // are what the body's fields are made of.
    const body = openAICompatibleChatBody(
      {
        model: resolved,
        messages,
        stream: options.stream ?? openAICompatibleCallDefaults.stream,
        streamUsage: this.#settings.streamUsage,
        defaultBody: this.#settings.extraBody,
        features: options,
      },
      { provider: label, createError: call.reader.createError },
    );
    const refineError = (error: unknown) =>
      refineUpstreamError(error, { model: resolved, endpoint: this.chatApiEndpoint });
    // Messages go unchanged: where they carry the client's own JSON text, as those bytes.
    const json = jsonBodyWithClientMessages(body);
    return call.chat({ url: this.chatApiEndpoint, body: json, headers, secrets, refineError });
  }
}
