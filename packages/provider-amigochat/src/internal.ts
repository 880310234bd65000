// Internal: AmigoChat's wire (paths, headers, bodies, the image answer's schema), its
// call defaults and the driver's request types, for the workspace's tests and tools.
// Published as "@g4f-ts/provider-amigochat/internal"; unstable: any release may change
// or remove a name here. Use the root export ("@g4f-ts/provider-amigochat") instead.
export type { AmigoChatChatRequest, AmigoChatImageRequest } from "./amigochat-driver.js";
export { amigoChatCapabilities } from "./amigochat-models.js";
export { amigoChatBaseUrlVariable, amigoChatCallDefaults } from "./amigochat-options.js";
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
