export type { AmigoChatChatRequest, AmigoChatImageRequest } from "./amigochat-driver.js";
export { amigoChat } from "./amigochat-instance.js";
export {
  type AmigoChatChatModel,
  type AmigoChatImageModel,
  type AmigoChatModel,
  type AmigoChatModelAlias,
  amigoChatModelTable,
} from "./amigochat-models.js";
export {
  type AmigoChatCallOptions,
  type AmigoChatOptions,
  AmigoChatOptionsError,
  amigoChatBaseUrlVariable,
  amigoChatCallDefaults,
} from "./amigochat-options.js";
export { providerPlugin } from "./amigochat-plugin.js";
export { AmigoChat } from "./amigochat-provider.js";
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
  amigoChatImageUrls,
  amigoChatSiteUrl,
} from "./amigochat-wire.js";
