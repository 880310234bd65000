export {
  defaultModelsTtlMs,
  type OpenAICompatibleOptions,
  OpenAICompatibleOptionsError,
} from "./openai-compatible-options.js";
export { providerPlugin } from "./openai-compatible-plugin.js";
export {
  OpenAICompatible,
  type OpenAICompatibleCallOptions,
  openAICompatibleCallDefaults,
} from "./openai-compatible-provider.js";
export {
  imageUrlsOf,
  type OpenAICompatibleChatBody,
  type OpenAICompatibleChatParameters,
  type OpenAICompatibleImageAnswer,
  type OpenAICompatibleImageBody,
  type OpenAICompatibleModelList,
  openAICompatibleChatBody,
  openAICompatibleImageAnswerSchema,
  openAICompatibleImageBody,
  openAICompatibleModelListSchema,
  openAICompatiblePaths,
} from "./openai-compatible-wire.js";
