import { randomUUID } from "node:crypto";
import {
  type AsyncGeneratorProvider,
  CallDeadline,
  type Chunk,
  defaultMaxCompletionCharacters,
  errorFromPayload,
  type HttpResponse,
  type HttpTimeouts,
  ImageResponse,
  InvalidResponseError,
  lastMessageText,
  type Messages,
  ModelCatalog,
  ModelNotSupportedError,
  type ProviderOptions,
  postJson,
  ResponseTooLargeError,
  type RetryPolicy,
  readJson,
  readOpenAIChatResponse,
  TextAccumulator,
  withRetries,
} from "@g4f-ts/provider-core";
import { amigoChatModelTable, findPersonaId } from "./amigochat-models.js";
import {
  type AmigoChatOptions,
  AmigoChatOptionsError,
  checkAmigoChatMessages,
  parseAmigoChatCallOptions,
  parseAmigoChatOptions,
} from "./amigochat-options.js";
import {
  amigoChatChatBody,
  amigoChatChatPath,
  amigoChatDefaultBaseUrl,
  amigoChatHeaders,
  amigoChatImageAnswerSchema,
  amigoChatImageBody,
  amigoChatImagePath,
  amigoChatSiteUrl,
} from "./amigochat-wire.js";

/** The defaults of a call, as in the reference. */
export const amigoChatCallDefaults = {
  stream: false,
  /** Seconds the whole call may take, retries included. */
  timeout: 300,
  frequencyPenalty: 0,
  maxTokens: 4000,
  presencePenalty: 0,
  temperature: 0.5,
  topP: 0.95,
} as const;

/** The options of one AmigoChat call: the common ones, plus `chatId`. */
export interface AmigoChatCallOptions extends ProviderOptions {
  /** The conversation id sent as `chatId` (default: a fresh uuid per call, kept across retries). */
  chatId?: string;
}

/** A chat through the driver methods: the messages, the model and the call's options. */
export interface AmigoChatChatRequest {
  /** A model id or alias (default `gpt-4o-mini`). */
  model?: string;
  messages: Messages;
  chatId?: string;
  proxy?: string;
  signal?: AbortSignal;
  /** Seconds the whole call may take (default 300). */
  timeout?: number;
  /** Ask the upstream to stream (`createChat` still returns the whole text). */
  stream?: boolean;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
}

/** An image through the driver method `createImage`. */
export interface AmigoChatImageRequest {
  /** An image model id or alias (`flux-realism`, `dall-e-3`, `flux-dev`, …). */
  model: string;
  prompt: string;
  proxy?: string;
  signal?: AbortSignal;
  /** Seconds the whole call may take (default 300). */
  timeout?: number;
}

const providerLabel = "AmigoChat";

/**
 * The AmigoChat provider: 29 chat models and 8 image models behind one
 * OpenAI-shaped API, each model with its persona id.
 *
 * A call resolves its model (aliases first, so `gpt-4o` reaches
 * `gpt-4o-2024-11-20`), sends the browser client's headers with a fresh device
 * uuid per attempt, reads SSE or JSON answers, and retries what can succeed on a
 * retry (connection failures, timeouts, 408, 429, 5xx) with backoff, never after
 * text was passed on. Everything else fails at once with a typed `ProviderError`.
 *
 * `working` is false for the real service, which has long been unreachable, and
 * true once a base URL is configured (the `baseUrl` option or `AMIGOCHAT_BASE_URL`),
 * since whoever points it at an upstream knows that upstream answers.
 *
 * @example
 * const amigo = new AmigoChat({ baseUrl: "http://127.0.0.1:8080" });
 * for await (const chunk of amigo.createAsyncGenerator("gpt-4o-mini", messages, { stream: true })) {
 *   if (typeof chunk === "string") process.stdout.write(chunk);
 * }
 */
export class AmigoChat extends ModelCatalog implements AsyncGeneratorProvider {
  readonly id: string;
  readonly label: string;
  readonly url = amigoChatSiteUrl;
  /** The API origin the endpoints are built on. */
  readonly baseUrl: string;
  readonly chatApiEndpoint: string;
  readonly imageApiEndpoint: string;
  readonly working: boolean;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth = false;
  readonly #proxy: string | undefined;
  readonly #retry: Partial<RetryPolicy>;
  readonly #timeouts: Partial<HttpTimeouts>;

  /** Throws `AmigoChatOptionsError` (naming the field) for an invalid option or `AMIGOCHAT_BASE_URL`. */
  constructor(options: AmigoChatOptions = {}) {
    const settings = parseAmigoChatOptions(options);
    super({
      label: settings.label,
      defaultModel: amigoChatModelTable.defaultModel,
      chatModels: Object.keys(amigoChatModelTable.chatModels),
      imageModels: Object.keys(amigoChatModelTable.imageModels),
      modelAliases: amigoChatModelTable.modelAliases,
    });
    this.id = settings.id;
    this.label = settings.label;
    this.baseUrl = settings.baseUrl ?? amigoChatDefaultBaseUrl;
    this.chatApiEndpoint = `${this.baseUrl}${amigoChatChatPath}`;
    this.imageApiEndpoint = `${this.baseUrl}${amigoChatImagePath}`;
    this.working = settings.working ?? settings.baseUrl !== undefined;
    this.#proxy = settings.proxy;
    this.#retry = settings.retry;
    this.#timeouts = settings.timeouts;
  }

  /**
   * The persona id of a model id of the table. Aliases are not resolved (pass the
   * result of `getModel` for that): `getPersonaId("gpt-4o")` is `summarizer`, the
   * persona of the model named `gpt-4o`. An unknown id is a `ModelNotSupportedError`.
   */
  static getPersonaId(model: string, provider = providerLabel): string {
    const personaId = findPersonaId(model);
    if (personaId === undefined) {
      throw new ModelNotSupportedError({
        provider,
        model,
        message: `Model "${model}" is not a model id of ${provider}, so it has no persona id`,
      });
    }
    return personaId;
  }

  /** A fresh chat id: a random uuid v4, lowercase, 8-4-4-4-12 hex digits. */
  static generateChatId(): string {
    return randomUUID();
  }

  /** See the static {@link AmigoChat.getPersonaId}. */
  getPersonaId(model: string): string {
    return AmigoChat.getPersonaId(model, this.label);
  }

  /** See the static {@link AmigoChat.generateChatId}. */
  generateChatId(): string {
    return AmigoChat.generateChatId();
  }

  /**
   * Answer a conversation. Chat models yield text deltas (then `FinishReason` and
   * `Usage` where the upstream sends them); image models yield one `ImageResponse`
   * made from the text of the last message, or fail with an `InvalidResponseError`
   * when the upstream answered without an image. Defaults: `stream` false, `timeout`
   * 300 s for the whole call, `temperature` 0.5, `topP` 0.95, `maxTokens` 4000,
   * penalties 0, `chatId` a fresh uuid.
   */
  async *createAsyncGenerator(
    model: string,
    messages: Messages,
    options: AmigoChatCallOptions = {},
  ): AsyncGenerator<Chunk> {
    const call = parseAmigoChatCallOptions(options, this.label);
    checkAmigoChatMessages(messages, this.label);
    const resolved = this.getModel(model);
    const personaId = this.getPersonaId(resolved);
    const signal = call.signal ?? undefined;
    const proxy = call.proxy ?? this.#proxy;
    const timeoutMs =
      call.timeout != null
        ? call.timeout * 1000
        : (this.#timeouts.totalMs ?? amigoChatCallDefaults.timeout * 1000);
    // The call's time covers every attempt: each gets what is left of it.
    const deadline = new CallDeadline(this.label, timeoutMs);
    const timeouts = (): Partial<HttpTimeouts> => ({
      ...this.#timeouts,
      totalMs: deadline.remainingMs(),
    });

    if (this.isImageModel(resolved)) {
      const prompt = lastMessageText(messages);
      if (prompt.trim() === "") {
        throw new AmigoChatOptionsError({
          provider: this.label,
          field: "messages",
          message: `${this.label}: an image model needs a prompt, and the last message has no text`,
        });
      }
      const body = amigoChatImageBody({ prompt, model: resolved, personaId });
      yield* withRetries(() => this.#imageAttempt(body, { proxy, signal, timeouts: timeouts() }), {
        provider: this.label,
        policy: this.#retry,
        signal,
      });
      return;
    }

    const body = amigoChatChatBody({
      chatId: call.chatId ?? this.generateChatId(),
      model: resolved,
      personaId,
      messages,
      stream: call.stream ?? amigoChatCallDefaults.stream,
      frequencyPenalty: call.frequencyPenalty ?? amigoChatCallDefaults.frequencyPenalty,
      maxTokens: call.maxTokens ?? amigoChatCallDefaults.maxTokens,
      presencePenalty: call.presencePenalty ?? amigoChatCallDefaults.presencePenalty,
      temperature: call.temperature ?? amigoChatCallDefaults.temperature,
      topP: call.topP ?? amigoChatCallDefaults.topP,
    });
    yield* withRetries(() => this.#chatAttempt(body, { proxy, signal, timeouts: timeouts() }), {
      provider: this.label,
      policy: this.#retry,
      signal,
    });
  }

  // No generator of its own: the reader awaits the response and closes it.
  #chatAttempt(body: unknown, transport: Transport): AsyncGenerator<Chunk> {
    const deviceUuid = randomUUID();
    return readOpenAIChatResponse(this.#post(this.chatApiEndpoint, body, deviceUuid, transport), {
      provider: this.label,
      secrets: [deviceUuid],
    });
  }

  async *#imageAttempt(
    body: ReturnType<typeof amigoChatImageBody>,
    transport: Transport,
  ): AsyncGenerator<Chunk> {
    const deviceUuid = randomUUID();
    const response = await this.#post(this.imageApiEndpoint, body, deviceUuid, transport);
    const answer = await readJson(response, amigoChatImageAnswerSchema, this.label, [deviceUuid]);
    if (answer.error != null) throw errorFromPayload(this.label, answer, [deviceUuid]);
    const urls = (answer.data ?? []).map((image) => image.url);
    if (urls.length === 0) {
      throw new InvalidResponseError({
        provider: this.label,
        status: response.status,
        message: `${this.label} answered without an image (its answer has no "data" URLs)`,
      });
    }
    yield new ImageResponse(urls, body.prompt);
  }

  // The device uuid is scrubbed from errors as well: an upstream may echo any header.
  #post(
    url: string,
    body: unknown,
    deviceUuid: string,
    transport: Transport,
  ): Promise<HttpResponse> {
    return postJson({
      provider: this.label,
      url,
      headers: amigoChatHeaders(deviceUuid),
      json: body,
      secrets: [deviceUuid],
      ...transport,
    });
  }

  /**
   * Send a conversation to a chat model and return the whole answer's text (up to 32 MiB
   * worth: past it, a `ResponseTooLargeError`; `streamChat` has no such limit).
   *
   * @example
   * const text = await amigoChat.createChat({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi!" }] });
   */
  async createChat(request: AmigoChatChatRequest): Promise<string> {
    // Capped as createCompletion is: an upstream that never stops can not exhaust memory.
    const text = new TextAccumulator(defaultMaxCompletionCharacters);
    for await (const chunk of this.streamChat({ ...request, stream: request.stream ?? false })) {
      if (!text.append(chunk))
        throw new ResponseTooLargeError({
          provider: this.label,
          limit: text.maxCharacters,
          limitName: "maxCharacters",
          message: `The answer of ${this.label} passed the limit of ${text.maxCharacters} characters; use streamChat to receive longer answers`,
        });
    }
    return text.toString();
  }

  /**
   * Stream the answer of a chat model as text deltas only (`stream` defaults to true
   * here). Breaking out of the loop closes the upstream connection.
   */
  async *streamChat(request: AmigoChatChatRequest): AsyncGenerator<string> {
    const { model, messages, ...options } = request;
    const resolved = this.getModel(model);
    if (this.isImageModel(resolved)) {
      throw new ModelNotSupportedError({
        provider: this.label,
        model: resolved,
        message: `"${resolved}" is an image model of ${this.label}; use createImage for it`,
      });
    }
    // The name as given, not `resolved`: resolving twice could follow an alias twice.
    for await (const chunk of this.createAsyncGenerator(model ?? this.defaultModel, messages, {
      ...options,
      stream: options.stream ?? true,
    })) {
      if (typeof chunk === "string") yield chunk;
    }
  }

  /**
   * Generate images from a prompt with an image model.
   *
   * @example
   * const image = await amigoChat.createImage({ model: "flux-realism", prompt: "a cat" });
   * console.log(image.images);
   */
  async createImage(request: AmigoChatImageRequest): Promise<ImageResponse> {
    const { model, prompt, ...options } = request;
    const resolved = this.getModel(model);
    if (!this.isImageModel(resolved)) {
      throw new ModelNotSupportedError({
        provider: this.label,
        model,
        message: `"${model}" is not an image model of ${this.label}; choose one of ${this.imageModels.join(", ")}`,
      });
    }
    for await (const chunk of this.createAsyncGenerator(
      model,
      [{ role: "user", content: prompt }],
      options,
    )) {
      if (chunk instanceof ImageResponse) return chunk;
    }
    throw new InvalidResponseError({
      provider: this.label,
      message: `${this.label} answered without an image`,
    });
  }
}

interface Transport {
  proxy: string | undefined;
  signal: AbortSignal | undefined;
  timeouts: Partial<HttpTimeouts>;
}

/**
 * A ready instance with the default options (the base URL from `AMIGOCHAT_BASE_URL`
 * when that is set as the module loads).
 */
export const amigoChat: AmigoChat = new AmigoChat();
