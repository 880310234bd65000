export { CallDeadline } from "./call-deadline.js";
export {
  CallOptionsReader,
  type CallSettings,
  g4fOptionSpellings,
  type OptionsContext,
  type OptionsErrorFactory,
  readOptions,
} from "./call-options.js";
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
  defaultMaxCompletionCharacters,
} from "./create-completion.js";
export { type DeadlineHandlers, DeadlineTimer } from "./deadline-timer.js";
export {
  closeDispatchers,
  closeDispatchersWithin,
  defaultHttpTimeouts,
  getDispatcher,
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
export {
  closeNames,
  ModelCatalog,
  type ModelTable,
  type ProviderModelMixin,
  resolveModel,
} from "./model-resolution.js";
export {
  type OpenAIChatChunk,
  type OpenAIChatCompletion,
  type OpenAIChatReadOptions,
  openAIChatChunkSchema,
  openAIChatCompletionSchema,
  readOpenAIChatResponse,
} from "./openai-chat-wire.js";
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
  baseUrlSchema,
  callOptionsShape,
  checkMessages,
  defineOptionsError,
  httpProviderOptionsShape,
  httpTimeoutsSchema,
  httpUrlSchema,
  InvalidOptionsError,
  type OptionsErrorClass,
  retryPolicySchema,
} from "./provider-options.js";
export {
  type AsyncResult,
  type Chunk,
  chunkText,
  FinishReason,
  ImageResponse,
  imageMarkdown,
  isContentChunk,
  Reasoning,
  ResponseChunk,
  Usage,
} from "./response-chunks.js";
export {
  defaultRetryPolicy,
  type RetryOptions,
  type RetryPolicy,
  retryDelayMs,
  withRetries,
} from "./retry.js";
export { formatSchemaIssues } from "./schema-errors.js";
export {
  redactionMark,
  redactSecrets,
  secretsOfHeaders,
  secretsOfHeaderValue,
  secretsOfUrl,
} from "./secret-redaction.js";
export {
  decodeSseStream,
  type SseDecodeOptions,
  SseEventDecoder,
  type SseStream,
} from "./sse-events.js";
export {
  describeBody,
  errorFromPayload,
  errorFromStatus,
  isRetryableStatus,
  parseRetryAfter,
  type StatusErrorInput,
  toProviderError,
  trimBody,
  upstreamSnippet,
} from "./status-errors.js";
export { TextAccumulator } from "./text-accumulator.js";
export { defaultTailCharacters, TextTail } from "./text-tail.js";
