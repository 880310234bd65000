// The documented API (see README.md). The wire (paths, bodies, schemas) and the
// defaults are in ./internal.ts, published as
// "@g4f-ts/provider-openai-compatible/internal" and not covered by semver.
export {
  type OpenAICompatibleCallOptions,
  type OpenAICompatibleOptions,
  OpenAICompatibleOptionsError,
} from "./openai-compatible-options.js";
export { providerPlugin } from "./openai-compatible-plugin.js";
export { OpenAICompatible } from "./openai-compatible-provider.js";
