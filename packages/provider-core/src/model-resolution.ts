import {
  imageModelCapabilities,
  type ModelCapabilities,
  textModelCapabilities,
} from "./capabilities.js";
import { ModelNotSupportedError } from "./provider-errors.js";

/** Model knowledge every provider shares, g4f's `ProviderModelMixin` in TypeScript casing. */
export interface ProviderModelMixin {
  readonly defaultModel: string;
  /** Every model the provider serves: chat models, then image models. */
  readonly models: readonly string[];
  readonly chatModels: readonly string[];
  readonly imageModels: readonly string[];
  /**
   * The image model of a request that names none (g4f's `default_image_model`);
   * without it, a registry takes the first of `imageModels`.
   */
  readonly defaultImageModel?: string | undefined;
  /** Friendly name -> the provider's own model id. */
  readonly modelAliases: Readonly<Record<string, string>>;
  getModels(): readonly string[];
  /** Resolve a requested name to the provider's model id; see {@link resolveModel}. */
  getModel(name: string | undefined): string;
  /**
   * For a provider whose models come from its upstream: fetch the list now, so that
   * `getModels()` is complete. A registry calls it at start, before routing.
   */
  refreshModels?(signal?: AbortSignal): Promise<unknown>;
  /**
   * For a provider whose lists change (a refresh from its upstream): call `listener`
   * after each change of `getModels()`, `imageModels` or `modelAliases`, until the
   * returned function is called. A registry that has it follows a change at once and
   * need not compare every provider's lists on every request; without it, the lists
   * are compared. A provider whose lists never change may leave it out.
   */
  onModelsChange?(listener: () => void): () => void;
  /**
   * What a model (a resolved id) can do; see `ModelCapabilities`. A provider
   * without it is read as a text model with the common sampling options
   * (`capabilitiesOf`).
   */
  capabilities?(model: string): ModelCapabilities;
}

/**
 * What `model` of `provider` can do: the provider's own word, or for a provider
 * that says nothing, a text model with the common sampling options (an image model
 * honours nothing beyond its prompt).
 */
export function capabilitiesOf(provider: ProviderModelMixin, model: string): ModelCapabilities {
  if (provider.capabilities !== undefined) return provider.capabilities(model);
  return provider.imageModels.includes(model) ? imageModelCapabilities : textModelCapabilities;
}

export interface ModelTable {
  /** The provider's label, named in errors. */
  label: string;
  defaultModel: string;
  chatModels: readonly string[];
  imageModels?: readonly string[];
  /** The image model of a request that names none (default: the first of `imageModels`). */
  defaultImageModel?: string;
  modelAliases?: Readonly<Record<string, string>>;
  /**
   * What the models can do: one set for every chat model, or a function of the
   * model id (default: text with the common sampling options; image models honour
   * nothing beyond their prompt).
   */
  capabilities?: ModelCapabilities | ((model: string) => ModelCapabilities);
}

/**
 * Resolve a requested model name, in g4f's order: an empty name gives the default
 * model; an alias gives its target (aliases win over a model of the same name, so
 * `gpt-4o` on AmigoChat reaches `gpt-4o-2024-11-20`); otherwise the name must be a
 * known model. Anything else is a `ModelNotSupportedError` naming the provider, the
 * model and up to three close names.
 */
export function resolveModel(table: ModelTable, name: string | undefined): string {
  if (name === undefined || name === "") return table.defaultModel;
  const aliases = table.modelAliases ?? {};
  if (Object.hasOwn(aliases, name)) return aliases[name] as string;
  if (table.chatModels.includes(name) || (table.imageModels ?? []).includes(name)) return name;
  throw new ModelNotSupportedError({
    provider: table.label,
    model: name,
    suggestions: closeNames(name, [
      ...table.chatModels,
      ...(table.imageModels ?? []),
      ...Object.keys(aliases),
    ]),
  });
}

/** Up to `limit` names closest to `name`: those containing it or contained in it, then by edit distance. */
export function closeNames(name: string, candidates: readonly string[], limit = 3): string[] {
  const wanted = name.toLowerCase();
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of new Set(candidates)) {
    const lower = candidate.toLowerCase();
    const contains = lower.includes(wanted) || wanted.includes(lower);
    const distance = editDistance(wanted, lower);
    const threshold = Math.max(2, Math.floor(Math.max(wanted.length, lower.length) / 3));
    if (contains || distance <= threshold)
      scored.push({ candidate, score: contains ? distance / 10 : distance });
  }
  scored.sort(
    (left, right) => left.score - right.score || left.candidate.localeCompare(right.candidate),
  );
  return scored.slice(0, limit).map((entry) => entry.candidate);
}

// Levenshtein distance on two rows: model names are short, so this stays cheap and
// needs no dependency.
function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row++) {
    const current = [row];
    for (let column = 1; column <= right.length; column++) {
      const substitution =
        (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current[column] = Math.min(
        (previous[column] ?? 0) + 1,
        (current[column - 1] ?? 0) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

/**
 * A reusable `ProviderModelMixin`: a provider class extends it (or holds one) and
 * gets `models`, `getModels()` and `getModel()` from its table.
 *
 * @example
 * class MyProvider extends ModelCatalog implements AsyncGeneratorProvider {
 *   constructor() { super({ label: "My", defaultModel: "a", chatModels: ["a", "b"] }); }
 * }
 */
export class ModelCatalog implements ProviderModelMixin {
  readonly defaultModel: string;
  readonly chatModels: readonly string[];
  readonly imageModels: readonly string[];
  readonly defaultImageModel: string | undefined;
  readonly models: readonly string[];
  readonly modelAliases: Readonly<Record<string, string>>;
  readonly #table: ModelTable;
  /**
   * Each name `getModel` resolves without an error (an alias, then a model id) and
   * the id it gives, made once: a call looks its model up instead of searching the
   * lists, which `getModel` does twice a call. The table is read when the catalog
   * is made, as `models` is.
   */
  readonly #resolved = new Map<string, string>();
  readonly #imageModels: ReadonlySet<string>;

  constructor(table: ModelTable) {
    this.#table = table;
    this.defaultModel = table.defaultModel;
    this.chatModels = table.chatModels;
    this.imageModels = table.imageModels ?? [];
    this.defaultImageModel = table.defaultImageModel ?? this.imageModels[0];
    this.models = [...new Set([...this.chatModels, ...this.imageModels])];
    this.modelAliases = table.modelAliases ?? {};
    for (const model of this.models) this.#resolved.set(model, model);
    for (const alias of Object.keys(this.modelAliases))
      this.#resolved.set(alias, this.modelAliases[alias] as string);
    this.#imageModels = new Set(this.imageModels);
  }

  getModels(): readonly string[] {
    return this.models;
  }

  getModel(name: string | undefined): string {
    if (name !== undefined && name !== "") {
      const resolved = this.#resolved.get(name);
      if (resolved !== undefined) return resolved;
    }
    // The default, or the error naming close names.
    return resolveModel(this.#table, name);
  }

  capabilities(model: string): ModelCapabilities {
    const { capabilities } = this.#table;
    if (typeof capabilities === "function") return capabilities(model);
    if (this.isImageModel(model)) return imageModelCapabilities;
    return capabilities ?? textModelCapabilities;
  }

  /** True when `model` (a resolved id) is an image model. */
  isImageModel(model: string): boolean {
    return this.#imageModels.has(model);
  }
}
