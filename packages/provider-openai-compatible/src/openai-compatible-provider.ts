import {
  AbortError,
  type AsyncGeneratorProvider,
  CallDeadline,
  type Chunk,
  defaultHttpTimeouts,
  errorFromPayload,
  type HttpTimeouts,
  ImageResponse,
  InvalidResponseError,
  lastMessageText,
  type Messages,
  ModelCatalog,
  ModelNotSupportedError,
  ProviderError,
  type ProviderModelMixin,
  type ProviderOptions,
  postJson,
  readJson,
  readOpenAIChatResponse,
  sendRequest,
  withRetries,
} from "@g4f-ts/provider-core";
import { refiningErrors } from "./openai-compatible-errors.js";
import {
  checkOpenAICompatibleMessages,
  type OpenAICompatibleOptions,
  OpenAICompatibleOptionsError,
  type OpenAICompatibleSettings,
  parseOpenAICompatibleCallOptions,
  parseOpenAICompatibleOptions,
} from "./openai-compatible-options.js";
import {
  imageUrlsOf,
  type OpenAICompatibleChatBody,
  type OpenAICompatibleImageBody,
  openAICompatibleChatBody,
  openAICompatibleImageAnswerSchema,
  openAICompatibleImageBody,
  openAICompatibleModelListSchema,
  openAICompatiblePaths,
} from "./openai-compatible-wire.js";

/** The options of one call: the common ones, plus image and body extras. */
export interface OpenAICompatibleCallOptions extends ProviderOptions {
  /** How many images an image model makes, sent as `n` (default: the upstream's). */
  n?: number;
  /** The image size, such as `1024x1024`, sent as `size` (default: the upstream's). */
  size?: string;
  /** Fields added to this call's chat body, over the instance's `extraBody`. */
  extraBody?: Record<string, unknown>;
}

/** The defaults of a call. */
export const openAICompatibleCallDefaults = {
  /** As g4f's OpenAI template: a call streams only when asked to. */
  stream: false,
} as const;

// A model list is small: waiting minutes for one helps nobody.
const modelListTimeouts: Partial<HttpTimeouts> = {
  firstByteMs: 30_000,
  idleMs: 30_000,
  totalMs: 30_000,
};

interface Transport {
  proxy: string | undefined;
  signal: AbortSignal | undefined;
  timeouts: Partial<HttpTimeouts>;
}

/**
 * A provider for any upstream that speaks the OpenAI HTTP API: Ollama, vLLM,
 * llama.cpp's server, LM Studio, LocalAI, or a hosted service. Several instances
 * (different ids, base URLs and keys) live side by side: nothing is shared per
 * class but the core's connection pool.
 *
 * Chat goes to `POST {baseUrl}/chat/completions` (SSE or JSON), image models (those
 * named in `imageModels`) to `POST {baseUrl}/images/generations`. Retryable
 * failures (connection errors, timeouts, 408, 429, 5xx) are retried with backoff,
 * never after text was passed on; everything else fails at once with a typed
 * `ProviderError` that never holds the API key.
 *
 * Models: a fixed `models` list, or the list of `GET {baseUrl}/models`, fetched by
 * {@link OpenAICompatible.refreshModels} or by the first call, and kept for
 * `modelsTtlMs`. `getModels()` and `getModel()` are synchronous and read what is
 * known: before any list arrived, `getModel` passes every name through (aliases
 * resolved) so that a call can still be made; once a list is known, an unknown name
 * is a `ModelNotSupportedError`.
 *
 * @example
 * const ollama = new OpenAICompatible({ id: "ollama", baseUrl: "http://127.0.0.1:11434/v1" });
 * await ollama.refreshModels();
 * for await (const chunk of ollama.createAsyncGenerator("llama3.2", messages, { stream: true })) {
 *   if (typeof chunk === "string") process.stdout.write(chunk);
 * }
 */
export class OpenAICompatible implements AsyncGeneratorProvider, ProviderModelMixin {
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
  #catalog: ModelCatalog;
  /** True once a list is known: the fixed one, or a fetched one that is not empty. */
  #listed: boolean;
  #fetchedAt: number | undefined;
  #pendingFetch: ModelListFetch | undefined;

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
    this.#catalog = this.#catalogOf(settings.models ?? []);
    this.#listed = settings.models !== undefined;
  }

  get defaultModel(): string {
    return this.#catalog.defaultModel;
  }

  /** Every model known now: chat models, then image models. */
  get models(): readonly string[] {
    return this.#catalog.models;
  }

  get chatModels(): readonly string[] {
    return this.#catalog.chatModels;
  }

  get imageModels(): readonly string[] {
    return this.#catalog.imageModels;
  }

  get modelAliases(): Readonly<Record<string, string>> {
    return this.#catalog.modelAliases;
  }

  /**
   * The models known now, without a request: the fixed list, or the last fetched
   * one. Before a list was fetched, only `defaultModel` and `imageModels` (when
   * set); call {@link OpenAICompatible.refreshModels} first to get the full list.
   */
  getModels(): readonly string[] {
    return this.#catalog.models;
  }

  /**
   * Resolve a requested name: an empty name gives `defaultModel`, an alias its
   * target. With a known list (fixed, or fetched and not empty), any other name
   * must be on it, or it is a `ModelNotSupportedError` with close names. Before a
   * list is known, any other name passes through unchanged: the upstream decides.
   */
  getModel(name: string | undefined): string {
    if (this.#listed) return this.#catalog.getModel(name);
    if (name === undefined || name === "") {
      if (this.#catalog.defaultModel !== "") return this.#catalog.defaultModel;
      throw new ModelNotSupportedError({
        provider: this.label,
        model: "",
        message: `${this.label} has no default model yet: set the defaultModel option, or call refreshModels() to fetch the list from ${this.modelsEndpoint}`,
      });
    }
    const aliases = this.#catalog.modelAliases;
    return Object.hasOwn(aliases, name) ? (aliases[name] as string) : name;
  }

  /** True when `model` (a resolved id) goes to the image endpoint. */
  isImageModel(model: string): boolean {
    return this.#catalog.isImageModel(model);
  }

  /**
   * Fetch the model list from `GET {baseUrl}/models` now and keep it for
   * `modelsTtlMs`; resolves with the models then known. With a fixed `models` list it
   * sends nothing. Concurrent callers share one request; `signal` stops the wait of
   * this caller, and once every caller has stopped waiting the request itself is
   * aborted (its socket closed), so no fetch outlives all who asked for it. A
   * failure rejects with its `ProviderError` and keeps the previous list, and the
   * next call tries again.
   *
   * A registry routes by `getModels()`, which is synchronous: it should call this
   * once at start (and may again later), before it builds its routes.
   *
   * @example
   * await Promise.allSettled(providers.map((provider) => provider.refreshModels?.()));
   */
  async refreshModels(signal?: AbortSignal): Promise<readonly string[]> {
    if (this.#settings.models !== undefined) return this.models;
    if (signal?.aborted) throw new AbortError({ provider: this.label, cause: signal.reason });
    let fetch = this.#pendingFetch;
    if (fetch === undefined) {
      const controller = new AbortController();
      const started: ModelListFetch = {
        controller,
        waiters: 0,
        result: this.#fetchModels(controller.signal).finally(() => {
          if (this.#pendingFetch === started) this.#pendingFetch = undefined;
        }),
      };
      // Every waiter handles the outcome; this keeps an abandoned fetch quiet.
      started.result.catch(() => undefined);
      this.#pendingFetch = fetch = started;
    }
    return this.#waitFor(fetch, signal);
  }

  // One caller's wait: the last caller to give up aborts the request.
  #waitFor(fetch: ModelListFetch, signal: AbortSignal | undefined): Promise<readonly string[]> {
    fetch.waiters++;
    if (signal === undefined) return fetch.result;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(new AbortError({ provider: this.label, cause: signal.reason }));
        fetch.waiters--;
        if (fetch.waiters > 0) return;
        if (this.#pendingFetch === fetch) this.#pendingFetch = undefined;
        fetch.controller.abort(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      fetch.result
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /**
   * Answer a conversation. Chat models yield text deltas, then `FinishReason` and
   * `Usage` as the upstream sends them (a stream asks for usage with
   * `stream_options.include_usage`); image models yield one `ImageResponse` made
   * from the text of the last message. Sampling options are sent only when given.
   * `stream` defaults to false; `timeout` (seconds) bounds the whole call, retries
   * included (default: the `totalMs` timeout, 300 s).
   *
   * Without a fixed list, a call first fetches the model list when it is missing or
   * older than `modelsTtlMs`; a failed fetch does not fail the call.
   */
  async *createAsyncGenerator(
    model: string,
    messages: Messages,
    options: OpenAICompatibleCallOptions = {},
  ): AsyncGenerator<Chunk> {
    const call = parseOpenAICompatibleCallOptions(options, this.label);
    checkOpenAICompatibleMessages(messages, this.label);
    const signal = call.signal ?? undefined;
    const proxy = call.proxy ?? this.#settings.proxy;
    const timeoutMs =
      call.timeout != null
        ? call.timeout * 1000
        : (this.#settings.timeouts.totalMs ?? defaultHttpTimeouts.totalMs);
    // The call's time covers every attempt: each gets what is left of it.
    const deadline = new CallDeadline(this.label, timeoutMs);
    const transport = (): Transport => ({
      proxy,
      signal,
      timeouts: { ...this.#settings.timeouts, totalMs: deadline.remainingMs() },
    });
    const retry = { provider: this.label, policy: this.#settings.retry, signal };

    await this.#ensureFreshModels(signal, deadline.at);
    const resolved = this.getModel(model);

    if (this.isImageModel(resolved)) {
      const prompt = lastMessageText(messages);
      if (prompt.trim() === "") {
        throw new OpenAICompatibleOptionsError({
          provider: this.label,
          field: "messages",
          message: `${this.label}: an image model needs a prompt, and the last message has no text`,
        });
      }
      const body = openAICompatibleImageBody({
        model: resolved,
        prompt,
        n: call.n,
        size: call.size,
      });
      const context = { model: resolved, endpoint: this.imageApiEndpoint };
      yield* withRetries(() => refiningErrors(this.#imageAttempt(body, transport), context), retry);
      return;
    }

    const body = openAICompatibleChatBody({
      model: resolved,
      messages,
      stream: call.stream ?? openAICompatibleCallDefaults.stream,
      streamUsage: this.#settings.streamUsage,
      temperature: call.temperature,
      topP: call.topP,
      maxTokens: call.maxTokens,
      frequencyPenalty: call.frequencyPenalty,
      presencePenalty: call.presencePenalty,
      extraBody: { ...this.#settings.extraBody, ...call.extraBody },
    });
    const context = { model: resolved, endpoint: this.chatApiEndpoint };
    yield* withRetries(() => refiningErrors(this.#chatAttempt(body, transport), context), retry);
  }

  // No generator of its own: the reader awaits the response and closes it.
  #chatAttempt(body: OpenAICompatibleChatBody, transport: () => Transport): AsyncGenerator<Chunk> {
    return readOpenAIChatResponse(
      postJson({
        provider: this.label,
        url: this.chatApiEndpoint,
        headers: this.#settings.headers,
        secrets: this.#settings.secrets,
        json: body,
        ...transport(),
      }),
      { provider: this.label, secrets: this.#settings.secrets },
    );
  }

  async *#imageAttempt(
    body: OpenAICompatibleImageBody,
    transport: () => Transport,
  ): AsyncGenerator<Chunk> {
    const response = await postJson({
      provider: this.label,
      url: this.imageApiEndpoint,
      headers: this.#settings.headers,
      secrets: this.#settings.secrets,
      json: body,
      ...transport(),
    });
    const answer = await readJson(
      response,
      openAICompatibleImageAnswerSchema,
      this.label,
      this.#settings.secrets,
    );
    if (answer.error != null) throw errorFromPayload(this.label, answer, this.#settings.secrets);
    const urls = imageUrlsOf(answer);
    if (urls.length === 0) {
      throw new InvalidResponseError({
        provider: this.label,
        status: response.status,
        message: `${this.label} answered without an image (its answer has no "data" URLs)`,
      });
    }
    const revisedPrompt = answer.data?.find((image) => image.revised_prompt)?.revised_prompt;
    yield new ImageResponse(urls, body.prompt, revisedPrompt ? { revisedPrompt } : {});
  }

  async #fetchModels(signal: AbortSignal): Promise<readonly string[]> {
    const response = await sendRequest({
      provider: this.label,
      url: this.modelsEndpoint,
      method: "GET",
      signal,
      headers: this.#settings.headers,
      secrets: this.#settings.secrets,
      proxy: this.#settings.proxy,
      timeouts: { ...modelListTimeouts, ...this.#settings.timeouts },
    });
    const list = await readJson(
      response,
      openAICompatibleModelListSchema,
      this.label,
      this.#settings.secrets,
    );
    const ids = [...new Set(list.data.map((entry) => entry.id))];
    this.#fetchedAt = Date.now();
    // An empty list tells nothing about what the upstream serves (llama.cpp's
    // server answers any name): names keep passing through.
    if (ids.length > 0) {
      this.#catalog = this.#catalogOf(ids);
      this.#listed = true;
    }
    return this.models;
  }

  // A call waits for a stale list at most until its own deadline, and never fails
  // because of it: the list is a routing aid, the chat endpoint has the last word.
  async #ensureFreshModels(signal: AbortSignal | undefined, deadline: number): Promise<void> {
    if (this.#settings.models !== undefined) return;
    if (this.#fetchedAt !== undefined && Date.now() - this.#fetchedAt < this.modelsTtlMs) return;
    const waitLimit = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    try {
      await this.refreshModels(
        signal === undefined ? waitLimit : AbortSignal.any([signal, waitLimit]),
      );
    } catch (error) {
      if (signal?.aborted) throw new AbortError({ provider: this.label, cause: signal.reason });
      // A failed fetch keeps the previous list; anything but a ProviderError is a bug.
      if (!ProviderError.isInstance(error)) throw error;
    }
  }

  #catalogOf(list: readonly string[]): ModelCatalog {
    const { imageModels, defaultModel, modelAliases, label } = this.#settings;
    const images = new Set(imageModels);
    const chatModels = list.filter((model) => !images.has(model));
    // A configured default is served whatever a fetched list says.
    if (
      defaultModel !== undefined &&
      !images.has(defaultModel) &&
      !chatModels.includes(defaultModel)
    ) {
      chatModels.unshift(defaultModel);
    }
    return new ModelCatalog({
      label,
      defaultModel: defaultModel ?? chatModels[0] ?? imageModels[0] ?? "",
      chatModels,
      imageModels,
      modelAliases,
    });
  }
}

/** The model-list request in flight, shared by every caller waiting for it. */
interface ModelListFetch {
  readonly controller: AbortController;
  /** Callers still waiting; one without a signal waits to the end. */
  waiters: number;
  readonly result: Promise<readonly string[]>;
}
