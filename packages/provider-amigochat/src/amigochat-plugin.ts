import { defineProviderPlugin } from "@g4f-ts/provider-core";
import type { AmigoChatOptions } from "./amigochat-options.js";
import { AmigoChat } from "./amigochat-provider.js";

/**
 * The registry's entry point (named by `"g4f-ts": { "provider": … }` in
 * `package.json`). The registry's config options are validated by the constructor,
 * which names a bad field in an `AmigoChatOptionsError`.
 */
export const providerPlugin = defineProviderPlugin({
  name: "amigochat",
  createProvider: (options) => new AmigoChat(options as AmigoChatOptions | undefined),
});
