export {
  defaultModelsTtlMs,
  type OpenAICompatibleCallOptions,
  type OpenAICompatibleOptions,
  OpenAICompatibleOptionsError,
  openAICompatibleCallDefaults,
} from "./openai-compatible-options.js";
export { providerPlugin } from "./openai-compatible-plugin.js";
export { OpenAICompatible } from "./openai-compatible-provider.js";
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
  revisedPromptOf,
} from "./openai-compatible-wire.js";
