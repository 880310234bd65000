import {
  type AsyncGeneratorProvider,
  BatchedChunks,
  type BatchesOfAnswer,
  CallPipeline,
  type ImageResponse,
  type Messages,
  ModelCatalog,
  ModelNotSupportedError,
  plainMessages,
} from "@g4f-ts/provider-core";
import { jsonBodyWithClientMessages, RandomUuids } from "@g4f-ts/provider-core/internal";
import {
  type AmigoChatChatRequest,
  type AmigoChatImageRequest,
  createChat,
  createImage,
  streamChat,
} from "./amigochat-driver.js";
import { amigoChatCapabilities, amigoChatModelTable, findPersonaId } from "./amigochat-models.js";
import {
  type AmigoChatCallOptions,
  type AmigoChatOptions,
  AmigoChatOptionsError,
  amigoChatCallOptionsShape,
  parseAmigoChatOptions,
  withAmigoChatDefaults,
} from "./amigochat-options.js";
import {
  amigoChatChatBody,
  amigoChatChatPath,
  amigoChatDefaultBaseUrl,
  amigoChatHeaders,
  amigoChatImageAnswerSchema,
  amigoChatImageBody,
  amigoChatImagePath,
  amigoChatImageUrls,
  amigoChatSendsAsGiven,
  amigoChatSiteUrl,
} from "./amigochat-wire.js";

const providerLabel = "AmigoChat";

/**
 * The chat ids and device uuids of every call: version 4 UUIDs as `randomUUID` makes
 * them (the same random source and text), at a tenth of its garbage (see `RandomUuids`).
 */
const uuids = new RandomUuids();

/**
 * The AmigoChat provider: 29 chat models and 8 image models behind one
 * OpenAI-shaped API, each model with its persona id.
 *
 * A call resolves its model (aliases first, so `gpt-4o` reaches
 * `gpt-4o-2024-11-20`), sends the browser client's headers with a fresh device
 * uuid per attempt, and leaves the rest to the core's `CallPipeline`: strict
 * options, one deadline, retries of what can succeed on a retry (never after
 * content), SSE or JSON answers. Everything else fails at once with a typed
 * `ProviderError`.
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
  readonly #pipeline: CallPipeline<typeof amigoChatCallOptionsShape>;

  /** Throws `AmigoChatOptionsError` (naming the field) for an invalid option or `AMIGOCHAT_BASE_URL`. */
  constructor(options: AmigoChatOptions = {}) {
    const settings = parseAmigoChatOptions(options);
    super({
      label: settings.label,
      defaultModel: amigoChatModelTable.defaultModel,
      defaultImageModel: amigoChatModelTable.defaultImageModel,
      chatModels: Object.keys(amigoChatModelTable.chatModels),
      imageModels: Object.keys(amigoChatModelTable.imageModels),
      modelAliases: amigoChatModelTable.modelAliases,
      capabilities: amigoChatCapabilities,
    });
    this.id = settings.id;
    this.label = settings.label;
    this.baseUrl = settings.baseUrl ?? amigoChatDefaultBaseUrl;
    this.chatApiEndpoint = `${this.baseUrl}${amigoChatChatPath}`;
    this.imageApiEndpoint = `${this.baseUrl}${amigoChatImagePath}`;
    this.working = settings.working ?? settings.baseUrl !== undefined;
    // The core's default call time, 300 s, is the reference's `timeout` default.
    this.#pipeline = new CallPipeline({
      ...settings,
      provider: settings.label,
      options: amigoChatCallOptionsShape,
      optionsError: AmigoChatOptionsError,
    });
  }

  /**
   * AmigoChat's lists are its fixed table: they never change, so there is never a
   * change to report. Saying so spares a registry comparing them on its requests
   * (see the model contract's `onModelsChange`).
   */
  onModelsChange(_listener: () => void): () => void {
    return noChangeToStop;
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
    return uuids.next();
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
   * (not retried) when the upstream answered without an image URL. Defaults:
   * `stream` false, `timeout` 300 s for the whole call, `temperature` 0.5, `topP`
   * 0.95, `maxTokens` 4000, penalties 0, `chatId` a fresh uuid.
   */
  createAsyncGenerator(
    model: string,
    messages: Messages,
    options: AmigoChatCallOptions = {},
  ): BatchedChunks {
    return new BatchedChunks(() => this.#answerBatches(model, messages, options));
  }

  // The answer as batches (see `chunkBatchesOf`): the pipeline's own, passed on
  // without a generator of this provider in between. Called at the first read, so a
  // refused call fails there, as a generator would.
  #answerBatches(
    model: string,
    messages: Messages,
    options: AmigoChatCallOptions,
  ): BatchesOfAnswer {
    // Before the options are read, an unknown model is not yet an error (the options
    // are checked first): it gets the chat models' capabilities, and fails after.
    const known = this.#knownModel(model);
    const call = this.#pipeline.start(
      messages,
      options,
      known === undefined ? amigoChatCapabilities : this.capabilities(known),
    );
    const resolved = known ?? this.getModel(model);
    const personaId = this.getPersonaId(resolved);
    // The device uuid is fresh per attempt, and scrubbed from errors: an upstream may echo any header.
    const eachAttempt = () => {
      const deviceUuid = uuids.next();
      return { headers: amigoChatHeaders(deviceUuid), secrets: [deviceUuid] };
    };
    if (this.isImageModel(resolved)) {
      const prompt = call.prompt(messages);
      const body = amigoChatImageBody({ prompt, model: resolved, personaId });
      const schema = amigoChatImageAnswerSchema;
      const images = amigoChatImageUrls;
      return call.image({ url: this.imageApiEndpoint, body, eachAttempt, prompt, schema, images });
    }
    const body = amigoChatChatBody(
      {
        chatId: call.options.chatId ?? this.generateChatId(),
        model: resolved,
        personaId,
        // developer as system, text and images only: the capability check above has
        // already refused any part these would lose (tool calls, audio, files). A
        // conversation plainMessages would not change goes as the caller's array.
        messages: amigoChatSendsAsGiven(messages) ? messages : plainMessages(messages),
      },
      withAmigoChatDefaults(call.options),
    );
    // Where that array carries the client's own JSON text, it is sent as those bytes.
    const json = jsonBodyWithClientMessages(body);
    return call.chat({ url: this.chatApiEndpoint, body: json, eachAttempt });
  }

  // The model id a call's name resolves to, or undefined for a name of no model here.
  #knownModel(model: string): string | undefined {
    try {
      return this.getModel(model);
    } catch {
      return undefined;
    }
  }

  /**
   * Send a conversation to a chat model and return the whole answer's text (up to 32 MiB
   * worth: past it, a `ResponseTooLargeError`; `streamChat` has no such limit).
   *
   * @example
   * const text = await amigoChat.createChat({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi!" }] });
   */
  createChat(request: AmigoChatChatRequest): Promise<string> {
    return createChat(this, request);
  }

  /** Stream a chat model's answer as text deltas (`stream` defaults to true); leaving the loop closes the connection. */
  streamChat(request: AmigoChatChatRequest): AsyncGenerator<string> {
    return streamChat(this, request);
  }

  /**
   * Generate images from a prompt with an image model.
   *
   * @example
   * const image = await amigoChat.createImage({ model: "flux-realism", prompt: "a cat" });
   */
  createImage(request: AmigoChatImageRequest): Promise<ImageResponse> {
    return createImage(this, request);
  }
}

function noChangeToStop(): void {}
