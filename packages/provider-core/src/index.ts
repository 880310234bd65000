// The documented API (see README.md and docs/writing-a-provider.md). What other
// workspace packages need beyond it is in ./internal.ts, published as
// "@g4f-ts/provider-core/internal" and not covered by semver.
export { CallDeadline } from "./call-deadline.js";
export { readOptions } from "./call-options.js";
export {
  type AttemptRequest,
  Call,
  CallPipeline,
  type CallPipelineSettings,
  type ChatAttemptRequest,
  type HttpProviderOptions,
  type HttpProviderSettings,
  type ImageAttemptRequest,
} from "./call-pipeline.js";
export {
  type Completion,
  type CompletionOptions,
  completionOf,
  createCompletion,
} from "./create-completion.js";
export {
  closeDispatchers,
  closeDispatchersWithin,
  type HttpRequestOptions,
  type HttpResponse,
  type HttpTimeouts,
  postJson,
  readJson,
  sendRequest,
} from "./http-client.js";
export {
  contentText,
  lastMessageText,
  type Message,
  type MessageContent,
  type MessageContentPart,
  type Messages,
} from "./messages.js";
export { ModelCatalog, type ModelTable, type ProviderModelMixin } from "./model-resolution.js";
export { type OpenAIChatReadOptions, readOpenAIChatResponse } from "./openai-chat-wire.js";
export {
  type OpenAISamplingFields,
  openAISamplingFields,
  type SamplingOptions,
} from "./openai-sampling.js";
export {
  type AsyncGeneratorProvider,
  defineProviderPlugin,
  isProvider,
  type Provider,
  type ProviderOptions,
  type ProviderPlugin,
  providerContractViolations,
  providerPackageField,
} from "./provider.js";
export {
  AbortError,
  ConnectionError,
  ContextLengthExceededError,
  InvalidResponseError,
  MissingAuthError,
  ModelNotSupportedError,
  PaymentRequiredError,
  ProviderError,
  type ProviderErrorOptions,
  RateLimitError,
  ResponseStatusError,
  ResponseTooLargeError,
  StreamInterruptedError,
  TimeoutError,
  type TimeoutPhase,
} from "./provider-errors.js";
export {
  defineOptionsError,
  InvalidOptionsError,
  type OptionsErrorClass,
} from "./provider-options.js";
export {
  type AsyncResult,
  type Chunk,
  FinishReason,
  ImageResponse,
  imageMarkdown,
  isContentChunk,
  Reasoning,
  ResponseChunk,
  Usage,
} from "./response-chunks.js";
export { type RetryOptions, type RetryPolicy, withRetries } from "./retry.js";
export { redactSecrets } from "./secret-redaction.js";
export {
  decodeSseStream,
  type SseDecodeOptions,
  SseEventDecoder,
  type SseStream,
} from "./sse-events.js";
export { errorFromStatus, type StatusErrorInput, upstreamSnippet } from "./status-errors.js";
