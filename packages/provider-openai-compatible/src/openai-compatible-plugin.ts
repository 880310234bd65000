import { defineProviderPlugin } from "@g4f-ts/provider-core";
import type { OpenAICompatibleOptions } from "./openai-compatible-options.js";
import { OpenAICompatible } from "./openai-compatible-provider.js";

/**
 * The registry's entry point (named by `"g4f-ts": { "provider": … }` in
 * `package.json`). A registry makes one instance per config entry, each with its own
 * `id`, `baseUrl` and key; the options are validated by the constructor, which names
 * a bad field in an `OpenAICompatibleOptionsError` (`baseUrl` is required).
 */
export const providerPlugin = defineProviderPlugin({
  name: "openai-compatible",
  // There is no default upstream: every instance comes from a config entry with its baseUrl.
  requiresOptions: true,
  createProvider: (options) =>
    new OpenAICompatible((options ?? {}) as unknown as OpenAICompatibleOptions),
});
