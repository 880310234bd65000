import { ModelNotSupportedError, type Provider } from "@g4f-ts/provider-core";
import { closeNames } from "@g4f-ts/provider-core/internal";
import { HttpError } from "./http-errors.js";
import type { ProviderEntry } from "./provider-set.js";
import { CandidateOrdering } from "./routing-strategies.js";

/** One way to answer a request: a provider and that provider's own model id. */
export interface Candidate {
  readonly entry: ProviderEntry;
  readonly model: string;
}

/** Chat completions may use any model; image generations only a provider's image models. */
export type RouteKind = "chat" | "image";

/** How candidates of equal priority are ordered (see `CandidateOrdering`). */
export type RoutingStrategy =
  | "priority"
  | "round-robin"
  | "weighted"
  | "least-busy"
  | "latency"
  | "shuffle";

/** One name a request may use, for `/v1/models`. */
export interface ModelListing {
  readonly name: string;
  /** The provider tried first. */
  readonly ownedBy: string;
  /** Every provider that serves it, in routing order. */
  readonly providers: readonly string[];
  readonly kind: RouteKind;
}

function resolveOnProvider(provider: Provider, name: string): string | undefined {
  try {
    return provider.getModel(name);
  } catch {
    return undefined;
  }
}

function byRoutingOrder(left: ProviderEntry, right: ProviderEntry): number {
  return right.priority - left.priority || left.order - right.order;
}

/**
 * The route table of a registry, built once from its providers: every model name
 * and alias an enabled provider serves maps to its ordered candidates (by
 * `priority`, then discovery order). Resolving a request is a map lookup; the
 * provider can be pinned by the body's `provider` field or the `/api/<id>/` path
 * (passed as `pin`), or by a `<provider id>:<model>` prefix (also `/`), split at
 * the first separator only when the part before it is a known provider and the
 * whole name is not a model of its own, so `llama3:8b` and
 * `meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo` still resolve as names.
 *
 * A provider is named by its id or, as g4f's users name them, by its label in any
 * case (`AmigoChat`, `amigochat`). A pin that lists several, separated by spaces
 * (`"provider": "AmigoChat Ollama"`), is tried in that order, as g4f's
 * `IterListProvider` does; those that do not serve the model are left out.
 */
export class ModelRouter {
  readonly entriesById = new Map<string, ProviderEntry>();
  /** Every routable name in routing order, for `/v1/models`. */
  readonly listing: ModelListing[] = [];
  readonly #chatRoutes = new Map<string, Candidate[]>();
  readonly #imageRoutes = new Map<string, Candidate[]>();

  constructor(
    entries: readonly ProviderEntry[],
    readonly strategy: RoutingStrategy = "priority",
    random: () => number = Math.random,
    /** The strategies per model with their inputs; default: `strategy` for every model. */
    readonly ordering: CandidateOrdering = new CandidateOrdering({ strategy, random }),
  ) {
    for (const entry of entries) this.entriesById.set(entry.id, entry);
    const enabled = entries.filter((entry) => entry.enabled).sort(byRoutingOrder);
    for (const entry of enabled) {
      const { provider } = entry;
      const images = new Set(provider.imageModels);
      const names = new Set([...provider.getModels(), ...Object.keys(provider.modelAliases)]);
      for (const name of names) {
        const model = resolveOnProvider(provider, name);
        if (model === undefined) continue;
        const candidate: Candidate = { entry, model };
        appendRoute(this.#chatRoutes, name, candidate);
        if (images.has(model)) appendRoute(this.#imageRoutes, name, candidate);
      }
    }
    for (const [name, candidates] of this.#chatRoutes) {
      this.listing.push({
        name,
        ownedBy: candidates[0]?.entry.id ?? "",
        providers: candidates.map((candidate) => candidate.entry.id),
        kind: this.#imageRoutes.has(name) ? "image" : "chat",
      });
    }
  }

  /**
   * The ordered candidates for a request's model; throws a 404 `HttpError` when no
   * enabled provider serves it (with close names), a 400 when no model is given.
   */
  resolve(
    model: string | undefined,
    pin: string | undefined,
    kind: RouteKind,
  ): readonly Candidate[] {
    const name = model ?? "";
    if (pin !== undefined) return this.#pinnedList(pin, name, kind);
    if (name === "")
      throw new HttpError(400, "`model` is required (or pin a provider to use its default model)", {
        code: "invalid_value",
        param: "model",
      });
    const routes = kind === "chat" ? this.#chatRoutes : this.#imageRoutes;
    const candidates = routes.get(name);
    if (candidates !== undefined) return this.ordering.order(name, candidates);

    for (const separator of [":", "/"]) {
      const at = name.indexOf(separator);
      if (at <= 0) continue;
      const providerName = name.slice(0, at);
      if (this.findEntry(providerName) !== undefined)
        return [this.#pinned(providerName, name.slice(at + 1), kind)];
    }
    if (this.findEntry(name) !== undefined) return [this.#pinned(name, "", kind)];

    const known = [...routes.keys()];
    const suggestions = closeNames(name, known);
    const hint =
      suggestions.length > 0
        ? ` Did you mean ${suggestions.map((suggestion) => `"${suggestion}"`).join(", ")}?`
        : "";
    throw new HttpError(
      404,
      `The model "${name}" does not exist: no enabled provider serves it${kind === "image" ? " as an image model" : ""}.${hint}`,
      { code: "model_not_found", param: "model" },
    );
  }

  /** A provider by its id, else by its id or label in any case (`AmigoChat`, `amigochat`). */
  findEntry(name: string): ProviderEntry | undefined {
    const exact = this.entriesById.get(name);
    if (exact !== undefined) return exact;
    const wanted = name.toLowerCase();
    for (const entry of this.entriesById.values()) {
      if (entry.id.toLowerCase() === wanted || entry.provider.label.toLowerCase() === wanted)
        return entry;
    }
    return undefined;
  }

  #pinnedList(pin: string, name: string, kind: RouteKind): readonly Candidate[] {
    const names = pin.split(/\s+/).filter((part) => part !== "");
    const strip = (entry: ProviderEntry | undefined) => {
      // `AmigoChat:gpt-4o` with `"provider": "AmigoChat"` names the provider twice.
      const at = name.indexOf(":");
      if (at <= 0) return name;
      const prefix = this.findEntry(name.slice(0, at));
      return prefix !== undefined && prefix === entry ? name.slice(at + 1) : name;
    };
    if (names.length <= 1) {
      const only = names[0] ?? pin;
      return [this.#pinned(only, strip(this.findEntry(only)), kind)];
    }
    const candidates: Candidate[] = [];
    let firstError: unknown;
    for (const providerName of names) {
      const entry = this.findEntry(providerName);
      // A name that is no provider at all is the client's typo: say so rather than skip it.
      if (entry === undefined) this.#pinned(providerName, name, kind);
      try {
        const candidate = this.#pinned(providerName, strip(entry), kind);
        if (!candidates.some((known) => known.entry === candidate.entry))
          candidates.push(candidate);
      } catch (error) {
        firstError ??= error;
      }
    }
    if (candidates.length === 0) throw firstError;
    return candidates;
  }

  #pinned(providerName: string, name: string, kind: RouteKind): Candidate {
    const entry = this.findEntry(providerName);
    const providerId = entry?.id ?? providerName;
    if (entry === undefined) {
      const suggestions = closeNames(providerId, [...this.entriesById.keys()]);
      throw new HttpError(
        404,
        `No provider has the id "${providerId}".${suggestions.length > 0 ? ` Did you mean "${suggestions.join('", "')}"?` : ""}`,
        { code: "provider_not_found", param: "provider" },
      );
    }
    if (!entry.enabled)
      throw new HttpError(
        404,
        `The provider "${providerId}" is disabled; set "enabled": true for it in the config to use it`,
        { code: "provider_disabled", param: "provider" },
      );
    const { provider } = entry;
    if (name === "") {
      // g4f's default_image_model: the first image model may be one that needs a paid balance.
      const model =
        kind === "image"
          ? (provider.defaultImageModel ?? provider.imageModels[0])
          : provider.defaultModel;
      if (model === undefined)
        throw new HttpError(404, `The provider "${providerId}" has no image models`, {
          code: "model_not_found",
          param: "model",
        });
      return { entry, model };
    }
    let model: string;
    try {
      model = provider.getModel(name);
    } catch (error) {
      const detail =
        ModelNotSupportedError.isInstance(error) && error.suggestions.length > 0
          ? ` Did you mean ${error.suggestions.map((suggestion) => `"${suggestion}"`).join(", ")}?`
          : "";
      throw new HttpError(
        404,
        `The provider "${providerId}" does not serve the model "${name}".${detail}`,
        { code: "model_not_found", param: "model" },
      );
    }
    if (kind === "image" && !provider.imageModels.includes(model))
      throw new HttpError(404, `"${name}" is not an image model of the provider "${providerId}"`, {
        code: "model_not_found",
        param: "model",
      });
    return { entry, model };
  }
}

function appendRoute(routes: Map<string, Candidate[]>, name: string, candidate: Candidate): void {
  const list = routes.get(name);
  if (list === undefined) routes.set(name, [candidate]);
  else list.push(candidate);
}
