import type { Candidate, RoutingStrategy } from "./model-router.js";

/** What the strategies read of the candidates' load and speed (the registry's state store). */
export interface StrategyInputs {
  inFlight(provider: string, model: string): number;
  latencyMs(provider: string, model: string): number | undefined;
}

export interface CandidateOrderingOptions {
  /** `routing.strategy`. */
  strategy: RoutingStrategy;
  /** `routing.models`: a strategy per requested model name. */
  models?: Readonly<Record<string, { strategy: RoutingStrategy }>>;
  /** How often `latency` puts another candidate first (0 to 1). */
  latencyExploration?: number;
  inputs?: StrategyInputs;
  /** The randomness of `shuffle`, `weighted` and the exploration of `latency` (tests). */
  random?: () => number;
}

const noInputs: StrategyInputs = { inFlight: () => 0, latencyMs: () => undefined };

/** The most model names whose round-robin position is kept. */
const maxRotations = 10_000;

/**
 * The order in which a request's candidates are tried. Priority tiers always come
 * first (a higher `priority` is tried before a lower one, whatever the strategy);
 * within a tier of equal priority the model's strategy decides, and the order it
 * gives is also the order of fallback:
 *
 * - `priority`: the discovery (config) order, every time.
 * - `round-robin`: the tier rotated by one for each request of the model.
 * - `weighted`: drawn at random in proportion to each provider's `weight`, the
 *   next ones drawn from the rest; a weight of 0 only when the others failed.
 * - `least-busy`: fewest attempts in flight first (on every replica, when state is
 *   shared); equals in round-robin order.
 * - `latency`: lowest recent time to first content first, candidates never
 *   measured before them (so they get measured); with probability
 *   `latencyExploration` another candidate is put first, so a slow one that got
 *   faster is found out.
 * - `shuffle` (deprecated; `weighted` with equal weights does the same): a random order.
 */
export class CandidateOrdering {
  readonly strategy: RoutingStrategy;
  readonly models: Readonly<Record<string, { strategy: RoutingStrategy }>>;
  readonly latencyExploration: number;
  readonly #inputs: StrategyInputs;
  readonly #random: () => number;
  readonly #rotations = new Map<string, number>();

  constructor(options: CandidateOrderingOptions) {
    this.strategy = options.strategy;
    this.models = options.models ?? {};
    this.latencyExploration = options.latencyExploration ?? 0.1;
    this.#inputs = options.inputs ?? noInputs;
    this.#random = options.random ?? Math.random;
  }

  /** The strategy of a requested model name. */
  strategyFor(name: string): RoutingStrategy {
    return Object.hasOwn(this.models, name)
      ? (this.models[name]?.strategy ?? this.strategy)
      : this.strategy;
  }

  /** `candidates` (in priority order) in the order to try them for a request of `name`. */
  order(name: string, candidates: readonly Candidate[]): readonly Candidate[] {
    const strategy = this.strategyFor(name);
    if (strategy === "priority" || candidates.length < 2) return candidates;
    const ordered: Candidate[] = [];
    const rotation = this.#rotate(strategy, name);
    let start = 0;
    while (start < candidates.length) {
      const priority = candidates[start]?.entry.priority;
      let end = start + 1;
      while (end < candidates.length && candidates[end]?.entry.priority === priority) end++;
      const tier = candidates.slice(start, end);
      ordered.push(...(tier.length < 2 ? tier : this.#orderTier(strategy, tier, rotation)));
      start = end;
    }
    return ordered;
  }

  #rotate(strategy: RoutingStrategy, name: string): number {
    if (strategy !== "round-robin" && strategy !== "least-busy") return 0;
    const position = this.#rotations.get(name) ?? 0;
    this.#rotations.delete(name);
    this.#rotations.set(name, position + 1);
    if (this.#rotations.size > maxRotations) {
      const oldest = this.#rotations.keys().next().value;
      if (oldest !== undefined) this.#rotations.delete(oldest);
    }
    return position;
  }

  #orderTier(strategy: RoutingStrategy, tier: Candidate[], rotation: number): Candidate[] {
    switch (strategy) {
      case "round-robin":
        return rotated(tier, rotation);
      case "least-busy": {
        const load = new Map(
          tier.map((candidate) => [
            candidate,
            this.#inputs.inFlight(candidate.entry.id, candidate.model),
          ]),
        );
        const byLoad = [...tier].sort(
          (left, right) => (load.get(left) ?? 0) - (load.get(right) ?? 0),
        );
        // Equals take turns among themselves, so equal load is spread evenly.
        const ordered: Candidate[] = [];
        let start = 0;
        while (start < byLoad.length) {
          let end = start + 1;
          while (
            end < byLoad.length &&
            load.get(byLoad[end] as Candidate) === load.get(byLoad[start] as Candidate)
          )
            end++;
          ordered.push(...rotated(byLoad.slice(start, end), rotation));
          start = end;
        }
        return ordered;
      }
      case "weighted":
        return this.#weighted(tier);
      case "latency":
        return this.#byLatency(tier);
      case "shuffle":
        return this.#shuffled(tier);
      default:
        return tier;
    }
  }

  #weighted(tier: Candidate[]): Candidate[] {
    const left = tier.filter((candidate) => candidate.entry.weight > 0);
    const ordered: Candidate[] = [];
    while (left.length > 0) {
      const total = left.reduce((sum, candidate) => sum + candidate.entry.weight, 0);
      let point = this.#random() * total;
      let index = 0;
      while (index < left.length - 1) {
        point -= (left[index] as Candidate).entry.weight;
        if (point < 0) break;
        index++;
      }
      ordered.push(...left.splice(index, 1));
    }
    return [...ordered, ...tier.filter((candidate) => candidate.entry.weight <= 0)];
  }

  #byLatency(tier: Candidate[]): Candidate[] {
    const latency = new Map(
      tier.map((candidate) => [
        candidate,
        this.#inputs.latencyMs(candidate.entry.id, candidate.model) ?? -1,
      ]),
    );
    const ordered = [...tier].sort(
      (left, right) => (latency.get(left) ?? -1) - (latency.get(right) ?? -1),
    );
    if (this.latencyExploration > 0 && this.#random() < this.latencyExploration) {
      const index = 1 + Math.floor(this.#random() * (ordered.length - 1));
      const [explored] = ordered.splice(Math.min(index, ordered.length - 1), 1);
      if (explored !== undefined) ordered.unshift(explored);
    }
    return ordered;
  }

  /** Fisher–Yates with the injected randomness (the strategy of old, kept as it was). */
  #shuffled(tier: Candidate[]): Candidate[] {
    const shuffled = [...tier];
    for (let index = shuffled.length - 1; index > 0; index--) {
      const other = Math.floor(this.#random() * (index + 1));
      const held = shuffled[index] as Candidate;
      shuffled[index] = shuffled[other] as Candidate;
      shuffled[other] = held;
    }
    return shuffled;
  }
}

function rotated(tier: readonly Candidate[], by: number): Candidate[] {
  const offset = by % tier.length;
  return [...tier.slice(offset), ...tier.slice(0, offset)];
}
