import { embeddingListings } from "./embeddings.js";
import { type ModelListing, ModelRouter, type RoutingStrategy } from "./model-router.js";
import type { ProviderEntry } from "./provider-set.js";
import type { CandidateOrdering } from "./routing-strategies.js";

/** What the route table was built from, per enabled provider: its lists as they were then. */
interface ProviderModels {
  readonly models: readonly string[];
  readonly imageModels: readonly string[];
  readonly aliases: Readonly<Record<string, string>>;
}

function modelsOf(entry: ProviderEntry): ProviderModels {
  const { provider } = entry;
  return {
    models: provider.getModels(),
    imageModels: provider.imageModels,
    aliases: provider.modelAliases,
  };
}

function sameList(left: readonly string[], right: readonly string[]): boolean {
  if (left === right) return true;
  return left.length === right.length && left.every((name, index) => name === right[index]);
}

function sameAliases(
  left: Readonly<Record<string, string>>,
  right: Readonly<Record<string, string>>,
): boolean {
  if (left === right) return true;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => left[key] === right[key]);
}

function stillServes(entry: ProviderEntry, built: ProviderModels): boolean {
  const { provider } = entry;
  return (
    sameList(provider.getModels(), built.models) &&
    sameList(provider.imageModels, built.imageModels) &&
    sameAliases(provider.modelAliases, built.aliases)
  );
}

/**
 * The one owner of the registry's model list. The providers say which models they
 * serve (a provider may refresh its list from its upstream at any time: an
 * OpenAI-compatible one after `modelsTtlMs`); the route table is derived from what
 * they say now, and rebuilt, with the `/v1/models` answer, whenever a provider's
 * list changed since it was built. So routing, `/v1/models` and `/v1/providers`
 * always agree. Checking costs a comparison of each provider's lists, by reference
 * first (providers keep the same arrays while their list stays the same).
 */
export class RouteTable {
  #router: ModelRouter;
  readonly #enabled: readonly ProviderEntry[];
  #builtFrom: ProviderModels[];
  /** The indexes (in `#enabled`) of the providers that do not report their changes: compared. */
  readonly #polled: readonly number[];
  /** A provider reported a change of its lists since they were last compared. */
  #reported = false;
  #modelsBody: string | undefined;
  #checkedThisTurn = false;
  #checkedAt = 0;
  readonly #endTurn = (): void => {
    this.#checkedThisTurn = false;
  };

  constructor(
    readonly entries: readonly ProviderEntry[],
    readonly strategy: RoutingStrategy,
    readonly random: (() => number) | undefined,
    /** One `/v1/models` entry of a listing. */
    readonly modelObject: (listing: ModelListing) => Record<string, unknown>,
    /** The strategies per model; kept across rebuilds (round-robin positions). */
    readonly ordering?: CandidateOrdering,
  ) {
    this.#enabled = entries.filter((entry) => entry.enabled);
    this.#builtFrom = this.#enabled.map(modelsOf);
    this.#router = new ModelRouter(entries, strategy, random, ordering);
    // A provider that reports its changes (`onModelsChange`) is not asked on every
    // request: the check stays flat in the number of such providers. The table is
    // held weakly, so a provider that outlives it does not keep it.
    const table = new WeakRef(this);
    const polled: number[] = [];
    this.#enabled.forEach(({ provider }, index) => {
      if (typeof provider.onModelsChange === "function")
        provider.onModelsChange(() => {
          const live = table.deref();
          if (live !== undefined) live.#reported = true;
        });
      else polled.push(index);
    });
    this.#polled = polled;
  }

  /** The router over the providers' current model lists. */
  router(): ModelRouter {
    // A reported change is followed at once: every list is compared.
    if (this.#reported) {
      this.#reported = false;
      this.#rebuildIfChanged(this.#enabled.keys());
    }
    if (this.#polled.length === 0) return this.#router;
    // The lists of the providers that do not report their changes are compared at
    // most once per turn of the event loop: under load one turn handles many
    // requests, and a comparison costs every such provider's lists (with 1,000
    // providers it was the registry's costliest function). A list such a provider
    // changed is still followed by the next request of a later turn.
    // (Or once per 100 ms, where `setImmediate` is faked and never fires.)
    const now = performance.now();
    if (this.#checkedThisTurn && now - this.#checkedAt < 100) return this.#router;
    this.#checkedAt = now;
    if (!this.#checkedThisTurn) {
      this.#checkedThisTurn = true;
      setImmediate(this.#endTurn);
    }
    this.#rebuildIfChanged(this.#polled);
    return this.#router;
  }

  /** Rebuild the routes when a list of the providers at `indexes` (in `#enabled`) changed. */
  #rebuildIfChanged(indexes: Iterable<number>): void {
    let changed = false;
    for (const index of indexes) {
      const entry = this.#enabled[index] as ProviderEntry;
      if (!stillServes(entry, this.#builtFrom[index] as ProviderModels)) {
        changed = true;
        break;
      }
    }
    if (changed) {
      this.#builtFrom = this.#enabled.map(modelsOf);
      this.#router = new ModelRouter(this.entries, this.strategy, this.random, this.ordering);
      this.#modelsBody = undefined;
    }
  }

  /** The `/v1/models` answer over the current lists, as JSON text (built once per list). */
  modelsBody(): string {
    const router = this.router();
    this.#modelsBody ??= JSON.stringify({
      object: "list",
      data: [
        ...router.listing.map((listing) => this.modelObject(listing)),
        ...this.embeddingObjects(router),
      ],
    });
    return this.#modelsBody;
  }

  /** The `/v1/models` entries of embedding models (`type: "embedding"`), those not also chat or image models. */
  embeddingObjects(router: ModelRouter = this.router()): Record<string, unknown>[] {
    const listed = new Set(router.listing.map((listing) => listing.name));
    return embeddingListings(this.entries)
      .filter((listing) => !listed.has(listing.name))
      .map(({ name, providers }) => ({
        ...this.modelObject({ name, ownedBy: providers[0] ?? "", providers, kind: "chat" }),
        type: "embedding",
      }));
  }
}
