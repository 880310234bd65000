import {
  type CallFeature,
  callFeatures,
  fullModelCapabilities,
  type InputKind,
  type ModelCapabilities,
  type ResponseFormatKind,
} from "@g4f-ts/provider-core";
import { z } from "zod";

const inputKinds = ["image", "audio", "file"] as const satisfies readonly InputKind[];
const responseFormatKinds = [
  "json_object",
  "json_schema",
] as const satisfies readonly ResponseFormatKind[];

/**
 * What to say of a model's capabilities in the config: lists that replace the ones
 * it would otherwise have, and `without`, names taken away from them (features,
 * input kinds or response formats: `["tools", "toolChoice", "parallelToolCalls"]`
 * for a model without tool calls).
 */
export interface CapabilitiesOverride {
  /** The call features the model honours (`tools`, `responseFormat`, `n`, `logprobs`, …). */
  features?: readonly CallFeature[];
  /** Content parts beyond text it reads: `image`, `audio`, `file`. */
  inputs?: readonly InputKind[];
  /** Structured-output modes: `json_object`, `json_schema`. */
  responseFormats?: readonly ResponseFormatKind[];
  /** Names to take away from the lists above (or from what the model would otherwise have). */
  without?: readonly (CallFeature | InputKind | ResponseFormatKind)[];
}

/**
 * The `capabilities` option: what the models behind the upstream can do. A chat
 * model starts from everything (`fullModelCapabilities`), then `default` applies,
 * then its entry in `models` (by the upstream's model id, or an alias of it).
 *
 * @example
 * { default: { without: ["audio", "file"] }, models: { "llama3": { without: ["tools", "toolChoice", "parallelToolCalls"] } } }
 */
export interface OpenAICompatibleCapabilitiesOptions {
  default?: CapabilitiesOverride;
  models?: Record<string, CapabilitiesOverride>;
}

const overrideSchema = z.strictObject({
  features: z.array(z.enum(callFeatures)).optional(),
  inputs: z.array(z.enum(inputKinds)).optional(),
  responseFormats: z.array(z.enum(responseFormatKinds)).optional(),
  without: z.array(z.enum([...callFeatures, ...inputKinds, ...responseFormatKinds])).optional(),
});

/** The `capabilities` option as zod reads it (an unknown name is an error naming its place). */
export const capabilitiesOptionSchema = z.strictObject({
  default: overrideSchema.optional(),
  models: z.record(z.string().trim().min(1), overrideSchema).optional(),
});

/**
 * What an image model behind an OpenAI-compatible upstream honours: `n` (several
 * images) and `extraBody`, the image fields the core has no name for (`size`,
 * `quality`, `style`, `response_format`, `background`, …), sent as they are.
 */
export const openAICompatibleImageCapabilities: ModelCapabilities =
  Object.freeze<ModelCapabilities>({
    features: ["n", "extraBody"],
    inputs: [],
    responseFormats: [],
  });

function applied(
  base: ModelCapabilities,
  override: CapabilitiesOverride | undefined,
): ModelCapabilities {
  if (override === undefined) return base;
  const without = new Set<string>(override.without ?? []);
  return {
    features: (override.features ?? base.features).filter((name) => !without.has(name)),
    inputs: (override.inputs ?? base.inputs).filter((name) => !without.has(name)),
    responseFormats: (override.responseFormats ?? base.responseFormats).filter(
      (name) => !without.has(name),
    ),
  };
}

/** The capabilities of each model, as the `capabilities` option says. */
export class OpenAICompatibleCapabilities {
  readonly #models: Readonly<Record<string, CapabilitiesOverride>>;
  readonly #chatDefault: ModelCapabilities;

  constructor(options: OpenAICompatibleCapabilitiesOptions = {}) {
    this.#models = options.models ?? {};
    this.#chatDefault = Object.freeze(applied(fullModelCapabilities, options.default));
  }

  /**
   * The capabilities of `model` (an upstream id), an image model's or a chat
   * model's; `alias`, the name a call used for it, is looked up in `models` when the
   * id is not there.
   */
  of(model: string, imageModel: boolean, alias?: string): ModelCapabilities {
    const base = imageModel ? openAICompatibleImageCapabilities : this.#chatDefault;
    let entry: CapabilitiesOverride | undefined;
    if (Object.hasOwn(this.#models, model)) entry = this.#models[model];
    else if (alias !== undefined && Object.hasOwn(this.#models, alias)) entry = this.#models[alias];
    return entry === undefined ? base : applied(base, entry);
  }

  /**
   * The capabilities of a model as a call names it. A call is checked before
   * anything is sent (the model list too), so the name is resolved from what the
   * config knows: the default model, an alias's target, or the name itself.
   */
  ofRequested(
    name: string,
    catalog: {
      defaultModel: string;
      modelAliases: Readonly<Record<string, string>>;
      isImageModel(model: string): boolean;
    },
  ): ModelCapabilities {
    const aliases = catalog.modelAliases;
    let model = name;
    if (name === "") model = catalog.defaultModel;
    else if (Object.hasOwn(aliases, name)) model = aliases[name] as string;
    return this.of(model, catalog.isImageModel(model), name);
  }
}
