export {
  type AmigoChatChatModel,
  type AmigoChatImageModel,
  type AmigoChatModel,
  type AmigoChatModelAlias,
  amigoChatModelTable,
} from "./amigochat-models.js";
export {
  type AmigoChatOptions,
  AmigoChatOptionsError,
  amigoChatBaseUrlVariable,
} from "./amigochat-options.js";
export { providerPlugin } from "./amigochat-plugin.js";
export {
  AmigoChat,
  type AmigoChatCallOptions,
  type AmigoChatChatRequest,
  type AmigoChatImageRequest,
  amigoChat,
  amigoChatCallDefaults,
} from "./amigochat-provider.js";
export {
  type AmigoChatChatBody,
  type AmigoChatImageAnswer,
  type AmigoChatImageBody,
  amigoChatChatPath,
  amigoChatClientVersion,
  amigoChatDefaultBaseUrl,
  amigoChatHeaders,
  amigoChatImageAnswerSchema,
  amigoChatImagePath,
  amigoChatSiteUrl,
} from "./amigochat-wire.js";
