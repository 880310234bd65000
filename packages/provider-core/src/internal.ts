// Internal: the pieces the other g4f-ts packages (the providers, the testkit, the
// registry) share beyond the documented API. Published as
// "@g4f-ts/provider-core/internal"; unstable: any release may change or remove a name
// here. Provider authors: use the root export ("@g4f-ts/provider-core") instead.

export { Cancellation, callControlOf, optionsRecord } from "./call-control.js";
export {
  CallOptionsReader,
  type CallSettings,
  g4fOptionSpellings,
  type OptionsContext,
  type OptionsErrorFactory,
} from "./call-options.js";
export {
  attachMessagesJson,
  EncodedJson,
  jsonBodyWithClientMessages,
  messagesJsonOf,
} from "./client-messages-json.js";
export { defaultMaxCompletionCharacters } from "./create-completion.js";
export { type ClockedDeadline, DeadlineClock } from "./deadline-clock.js";
export { type DeadlineHandlers, DeadlineTimer } from "./deadline-timer.js";
export { extraBodyKeyProblem, extraBodySchema, providerBodyFields } from "./extra-body.js";
export { defaultHttpTimeouts, getDispatcher } from "./http-client.js";
export { closeNames, resolveModel } from "./model-resolution.js";
export {
  type OpenAIChatChunk,
  OpenAIChatChunkMapper,
  type OpenAIChatCompletion,
  openAIChatChunkSchema,
  openAIChatCompletionSchema,
} from "./openai-chat-chunks.js";
export {
  baseUrlSchema,
  callOptionsShape,
  checkMessages,
  httpProviderOptionsShape,
  httpTimeoutsSchema,
  httpUrlSchema,
  retryPolicySchema,
  vouchForMessages,
} from "./provider-options.js";
export { RandomUuids } from "./random-uuids.js";
export { chunkText } from "./response-chunks.js";
export { defaultRetryPolicy, retryDelayMs } from "./retry.js";
export { formatSchemaIssues } from "./schema-errors.js";
export {
  redactionMark,
  secretsOfHeaders,
  secretsOfHeaderValue,
  secretsOfUrl,
} from "./secret-redaction.js";
export {
  describeBody,
  errorFromPayload,
  isRetryableStatus,
  parseRetryAfter,
  toProviderError,
  trimBody,
} from "./status-errors.js";
export { TextAccumulator } from "./text-accumulator.js";
export { defaultTailCharacters, TextTail } from "./text-tail.js";
