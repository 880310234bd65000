// The documented API (see README.md and docs/writing-a-provider.md). What other
// workspace packages need beyond it is in ./internal.ts, published as
// "@g4f-ts/provider-core/internal" and not covered by semver.
export { CallControl, callControlKey, withCallControl } from "./call-control.js";
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
  type CallFeature,
  type CallFeatureValues,
  type CapabilityNeed,
  callFeatures,
  callFeatureWireNames,
  capabilityNeeds,
  describeNeed,
  fullModelCapabilities,
  type InputKind,
  imageModelCapabilities,
  type ModelCapabilities,
  type ResponseFormatKind,
  samplingFeatures,
  textModelCapabilities,
  unmetNeeds,
} from "./capabilities.js";
export {
  BatchedChunks,
  type BatchesOfAnswer,
  type ChunkBatchSource,
  chunkBatches,
  chunkBatchesOf,
  hasChunkBatches,
} from "./chunk-batches.js";
export {
  type Completion,
  type CompletionOptions,
  completionOf,
  createCompletion,
} from "./create-completion.js";
export {
  type EmbeddingEncodingFormat,
  type EmbeddingInput,
  type EmbeddingOptions,
  type EmbeddingProvider,
  type Embeddings,
  EmbeddingsResponse,
  type EmbeddingVector,
  float32Base64,
  float32FromBase64,
  supportsEmbeddings,
} from "./embeddings.js";
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
  type AssistantMessage,
  type AudioContentPart,
  contentText,
  type FileContentPart,
  type FunctionDefinition,
  type FunctionMessage,
  type ImageContentPart,
  lastMessageText,
  type Message,
  type MessageContent,
  type MessageContentPart,
  type MessageRole,
  type Messages,
  plainMessages,
  type RefusalContentPart,
  type SystemMessage,
  type TextContentPart,
  type ToolCall,
  type ToolDefinition,
  type ToolMessage,
  type UserMessage,
} from "./messages.js";
export {
  capabilitiesOf,
  ModelCatalog,
  type ModelTable,
  type ProviderModelMixin,
} from "./model-resolution.js";
export { type OpenAIChatReadOptions, readOpenAIChatResponse } from "./openai-chat-wire.js";
export {
  type OpenAIRequestFieldsContext,
  type OpenAIRequestOptions,
  openAIRequestFields,
} from "./openai-request-fields.js";
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
  type ResponseFormat,
  type ToolChoice,
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
  ChoiceChunk,
  type Chunk,
  FinishReason,
  ImageResponse,
  imageMarkdown,
  isContentChunk,
  Logprobs,
  Reasoning,
  Refusal,
  ResponseChunk,
  ResponseMetadata,
  ToolCallDelta,
  ToolCalls,
  Usage,
  type UsageCounts,
} from "./response-chunks.js";
export {
  NativeResponseText,
  type ResponsesPassthroughOptions,
  type ResponsesPassthroughProvider,
  supportsResponsesPassthrough,
} from "./responses-passthrough.js";
export { type RetryOptions, type RetryPolicy, withRetries } from "./retry.js";
export { redactSecrets } from "./secret-redaction.js";
export {
  decodeSseStream,
  type SseDecodeOptions,
  SseEventDecoder,
  type SseShortcut,
  type SseStream,
} from "./sse-events.js";
export { errorFromStatus, type StatusErrorInput, upstreamSnippet } from "./status-errors.js";
export { ToolCallAssembler } from "./tool-call-assembler.js";
