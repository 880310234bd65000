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

/** Each named feature's place in `namedFeatures`. */
const namedFeatureOrder: ReadonlyMap<string, number> = new Map(
  namedFeatures.map((feature, index) => [feature, index]),
);

// The named features set, under their wire names in `namedFeatures` order.
function namedFieldsOf(options: OpenAIRequestOptions): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const feature of namedFeatures) {
    const value = options[feature];
    if (value != null) fields[callFeatureWireNames[feature]] = value;
  }
  return fields;
}

/**
 * `namedFieldsOf` for a plain object (a call's options as the core reads them, a
 * spread, parsed JSON): its own keys are walked instead of looking up each of the
 * twenty features, most of them absent (those lookups, each of another name, were
 * about 4% of a provider call). Only its enumerable keys count, as a spread would
 * copy them; a plain object's keys are. The fields come in the same order.
 */
function namedFieldsOfRecord(options: OpenAIRequestOptions): Record<string, unknown> {
  let found: number[] | undefined;
  const record = options as Record<string, unknown>;
  for (const key in record) {
    const index = namedFeatureOrder.get(key);
    if (index === undefined || record[key] == null) continue;
    found ??= [];
    found.push(index);
  }
  const fields: Record<string, unknown> = {};
  if (found === undefined) return fields;
  // Already in order when the options are (the core's reader writes them so).
  if (found.length > 1) found.sort((left, right) => left - right);
  for (const index of found) {
    const feature = namedFeatures[index] as (typeof namedFeatures)[number];
    fields[callFeatureWireNames[feature]] = record[feature];
  }
  return fields;
}

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
  const fields =
    Object.getPrototypeOf(options) === Object.prototype
      ? namedFieldsOfRecord(options)
      : namedFieldsOf(options);
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
