import type { OptionsErrorFactory } from "./call-options.js";
import { type CallFeature, callFeatures, callFeatureWireNames } from "./capabilities.js";
import { extraBodyKeyProblem } from "./extra-body.js";
import type { ProviderOptions } from "./provider.js";
import { InvalidOptionsError } from "./provider-options.js";

/** The call features of a call's options (null counts as unset), as `openAIRequestFields` reads them. */
export type OpenAIRequestOptions = {
  readonly [Feature in CallFeature]?: ProviderOptions[Feature] | null | undefined;
};

/** Who asks, for the error of a refused `extraBody` key. */
export interface OpenAIRequestFieldsContext {
  /** The provider's label, named in the error (default `the provider`). */
  provider?: string;
  /** The provider's own subclass of `InvalidOptionsError` (default: the core's class). */
  createError?: OptionsErrorFactory;
}

// The features written under their wire names; extraBody is spread, not nested.
const namedFeatures = callFeatures.filter((feature) => feature !== "extraBody");

/**
 * Every call feature a call set, under its OpenAI Chat Completions wire name and
 * with its value unchanged (`maxTokens` is `max_tokens`, `maxCompletionTokens` is
 * `max_completion_tokens`: never one rewritten into the other, since o-series
 * upstreams refuse `max_tokens` and older ones do not know the other). Unset ones
 * are left out, so the upstream's own defaults apply. `extraBody`'s fields come
 * last, verbatim, over the named ones; a key of it that would set `model`,
 * `messages`, `stream` or an address (`base_url`, `api_base`, `proxy`, …) is an
 * `InvalidOptionsError` naming `extraBody.<key>`.
 *
 * @example
 * const body = { ...openAIRequestFields(call.options, { provider }), model, messages, stream };
 */
export function openAIRequestFields(
  options: OpenAIRequestOptions,
  context: OpenAIRequestFieldsContext = {},
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const feature of namedFeatures) {
    const value = options[feature];
    if (value != null) fields[callFeatureWireNames[feature]] = value;
  }
  const extraBody = options.extraBody;
  if (extraBody == null) return fields;
  for (const key of Object.keys(extraBody)) {
    const problem = extraBodyKeyProblem(key);
    if (problem !== undefined) {
      const provider = context.provider ?? "the provider";
      const field = `extraBody.${key}`;
      const error = {
        provider,
        field,
        message: `${provider}: invalid call option "${field}": ${problem}`,
      };
      throw context.createError?.(error) ?? new InvalidOptionsError(error);
    }
    // A JSON `__proto__` key would replace the body's prototype, not add a field.
    if (key !== "__proto__") fields[key] = extraBody[key];
  }
  return fields;
}
