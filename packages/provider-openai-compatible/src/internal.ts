// Internal: the OpenAI wire as this provider writes and reads it (paths, bodies, the
// image and model-list schemas) and its defaults, for the workspace's tests and tools.
// Published as "@g4f-ts/provider-openai-compatible/internal"; unstable: any release may
// change or remove a name here. Use the root export instead.
export { defaultModelsTtlMs, openAICompatibleCallDefaults } from "./openai-compatible-options.js";
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
