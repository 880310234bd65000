import {
  type AsyncGeneratorProvider,
  ImageResponse,
  InvalidResponseError,
  type Messages,
  ModelNotSupportedError,
  ResponseTooLargeError,
} from "@g4f-ts/provider-core";
import { defaultMaxCompletionCharacters, TextAccumulator } from "@g4f-ts/provider-core/internal";

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

/** What the driver methods need of the provider. */
export interface DrivenProvider extends AsyncGeneratorProvider {
  readonly defaultModel: string;
  readonly imageModels: readonly string[];
  getModel(name: string | undefined): string;
  isImageModel(model: string): boolean;
}

/** The seed's `streamChat`: text deltas only; `stream` defaults to true here. */
export async function* streamChat(
  provider: DrivenProvider,
  request: AmigoChatChatRequest,
): AsyncGenerator<string> {
  const { model, messages, ...options } = request;
  const resolved = provider.getModel(model);
  if (provider.isImageModel(resolved)) {
    throw new ModelNotSupportedError({
      provider: provider.label,
      model: resolved,
      message: `"${resolved}" is an image model of ${provider.label}; use createImage for it`,
    });
  }
  // The name as given, not `resolved`: resolving twice could follow an alias twice.
  for await (const chunk of provider.createAsyncGenerator(
    model ?? provider.defaultModel,
    messages,
    {
      ...options,
      stream: options.stream ?? true,
    },
  )) {
    if (typeof chunk === "string") yield chunk;
  }
}

/**
 * The seed's `createChat`: the whole answer's text, capped as `createCompletion`
 * is, so that an upstream that never stops can not exhaust memory.
 */
export async function createChat(
  provider: DrivenProvider,
  request: AmigoChatChatRequest,
): Promise<string> {
  const text = new TextAccumulator(defaultMaxCompletionCharacters);
  for await (const chunk of streamChat(provider, { ...request, stream: request.stream ?? false })) {
    if (!text.append(chunk))
      throw new ResponseTooLargeError({
        provider: provider.label,
        limit: text.maxCharacters,
        limitName: "maxCharacters",
        message: `The answer of ${provider.label} passed the limit of ${text.maxCharacters} characters; use streamChat to receive longer answers`,
      });
  }
  return text.toString();
}

/** The seed's `createImage`: one `ImageResponse` from an image model. */
export async function createImage(
  provider: DrivenProvider,
  request: AmigoChatImageRequest,
): Promise<ImageResponse> {
  const { model, prompt, ...options } = request;
  const resolved = provider.getModel(model);
  if (!provider.isImageModel(resolved)) {
    throw new ModelNotSupportedError({
      provider: provider.label,
      model,
      message: `"${model}" is not an image model of ${provider.label}; choose one of ${provider.imageModels.join(", ")}`,
    });
  }
  const messages: Messages = [{ role: "user", content: prompt }];
  for await (const chunk of provider.createAsyncGenerator(model, messages, options)) {
    if (ImageResponse.isInstance(chunk)) return chunk;
  }
  throw new InvalidResponseError({
    provider: provider.label,
    message: `${provider.label} answered without an image`,
  });
}
