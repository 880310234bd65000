// The documented API (see README.md). The wire details (paths, headers, schemas) and
// the defaults are in ./internal.ts, published as "@g4f-ts/provider-amigochat/internal"
// and not covered by semver.
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
} from "./amigochat-options.js";
export { providerPlugin } from "./amigochat-plugin.js";
export { AmigoChat } from "./amigochat-provider.js";
