import { describe, expect, it } from "vitest";
import type { Candidate } from "./model-router.js";
import type { ProviderEntry } from "./provider-set.js";
import { CandidateOrdering, type StrategyInputs } from "./routing-strategies.js";

function candidate(id: string, settings: { priority?: number; weight?: number } = {}): Candidate {
  const entry = {
    id,
    priority: settings.priority ?? 0,
    weight: settings.weight ?? 1,
  } as unknown as ProviderEntry;
  return { entry, model: "m" };
}

const [a, b, c] = [candidate("a"), candidate("b"), candidate("c")];
const three = [a, b, c] as Candidate[];
const ids = (list: readonly Candidate[]) => list.map((item) => item.entry.id);

/** Hands out the given numbers in turn (then repeats the last). */
function numbers(...values: number[]): () => number {
  let index = 0;
  return () => values[Math.min(index++, values.length - 1)] as number;
}

function inputs(
  inFlight: Record<string, number>,
  latency: Record<string, number> = {},
): StrategyInputs {
  return {
    inFlight: (provider) => inFlight[provider] ?? 0,
    latencyMs: (provider) => latency[provider],
  };
}

describe("CandidateOrdering", () => {
  it("keeps the priority order, request after request, under priority", () => {
    const ordering = new CandidateOrdering({ strategy: "priority" });
    for (let index = 0; index < 3; index++)
      expect(ids(ordering.order("m", three))).toEqual(["a", "b", "c"]);
  });

  it("rotates by one per request under round-robin, the rest following as fallback", () => {
    const ordering = new CandidateOrdering({ strategy: "round-robin" });
    expect(ids(ordering.order("m", three))).toEqual(["a", "b", "c"]);
    expect(ids(ordering.order("m", three))).toEqual(["b", "c", "a"]);
    expect(ids(ordering.order("m", three))).toEqual(["c", "a", "b"]);
    expect(ids(ordering.order("m", three))).toEqual(["a", "b", "c"]);
    // Each model name has its own position.
    expect(ids(ordering.order("other", three))).toEqual(["a", "b", "c"]);
  });

  it("keeps a higher priority tier first whatever the strategy", () => {
    const ordering = new CandidateOrdering({ strategy: "round-robin" });
    const high = candidate("high", { priority: 5 });
    const tiers = [high, a, b];
    expect(ids(ordering.order("m", tiers))).toEqual(["high", "a", "b"]);
    expect(ids(ordering.order("m", tiers))).toEqual(["high", "b", "a"]);
  });

  it("draws in proportion to the weights under weighted, the next ones from the rest, weight 0 last", () => {
    const weighted = [
      candidate("a", { weight: 1 }),
      candidate("b", { weight: 2 }),
      candidate("c", { weight: 3 }),
      candidate("z", { weight: 0 }),
    ];
    // A draw of 0.1 of 6 falls in a's share [0, 1); then 0.9 of b+c's 5 falls in c's [2, 5).
    const first = new CandidateOrdering({ strategy: "weighted", random: numbers(0.1, 0.9, 0) });
    expect(ids(first.order("m", weighted))).toEqual(["a", "c", "b", "z"]);
    // 0.4 of 6 is 2.4: b's share [1, 3).
    const second = new CandidateOrdering({ strategy: "weighted", random: numbers(0.4, 0, 0) });
    expect(ids(second.order("m", weighted))).toEqual(["b", "a", "c", "z"]);
    // 0.99 of 6: c's share [3, 6).
    const third = new CandidateOrdering({ strategy: "weighted", random: numbers(0.99, 0, 0) });
    expect(ids(third.order("m", weighted))).toEqual(["c", "a", "b", "z"]);
  });

  it("spreads 600 draws of weights 1, 2 and 3 as one, two and three sixths", () => {
    let step = 0;
    // Evenly spread first draws: each request's first number walks over [0, 1).
    const random = () => {
      const value = ((step % 600) + 0.5) / 600;
      step++;
      return value;
    };
    const ordering = new CandidateOrdering({ strategy: "weighted", random });
    const weighted = [
      candidate("a", { weight: 1 }),
      candidate("b", { weight: 2 }),
      candidate("c", { weight: 3 }),
    ];
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let index = 0; index < 600; index++) {
      const first = ordering.order("m", weighted)[0]?.entry.id as string;
      counts[first] = (counts[first] ?? 0) + 1;
      step = index + 1;
    }
    expect(counts).toEqual({ a: 100, b: 200, c: 300 });
  });

  it("puts the fewest attempts in flight first under least-busy, equals in turn", () => {
    const load: Record<string, number> = { a: 2, b: 0, c: 1 };
    const ordering = new CandidateOrdering({ strategy: "least-busy", inputs: inputs(load) });
    expect(ids(ordering.order("m", three))).toEqual(["b", "c", "a"]);
    load.b = 1;
    load.c = 1;
    // b and c are equal: the rotation decides between them.
    const firsts = [ordering.order("m", three), ordering.order("m", three)].map(
      (list) => list[0]?.entry.id,
    );
    expect(new Set(firsts)).toEqual(new Set(["b", "c"]));
  });

  it("puts the lowest time to first content first under latency, the unmeasured before all", () => {
    const latency: Record<string, number> = { a: 300, c: 40 };
    const ordering = new CandidateOrdering({
      strategy: "latency",
      latencyExploration: 0,
      inputs: inputs({}, latency),
    });
    expect(ids(ordering.order("m", three))).toEqual(["b", "c", "a"]);
    latency.b = 90;
    expect(ids(ordering.order("m", three))).toEqual(["c", "b", "a"]);
  });

  it("explores another candidate first with the probability of latencyExploration", () => {
    const latency = { a: 300, b: 90, c: 40 };
    const exploring = new CandidateOrdering({
      strategy: "latency",
      latencyExploration: 0.1,
      inputs: inputs({}, latency),
      // 0.05 < 0.1: explore; then 0.99 picks the last of the others.
      random: numbers(0.05, 0.99),
    });
    expect(ids(exploring.order("m", three))).toEqual(["a", "c", "b"]);
    const settled = new CandidateOrdering({
      strategy: "latency",
      latencyExploration: 0.1,
      inputs: inputs({}, latency),
      random: numbers(0.5),
    });
    expect(ids(settled.order("m", three))).toEqual(["c", "b", "a"]);
  });

  it("takes a model's own strategy over the global one", () => {
    const ordering = new CandidateOrdering({
      strategy: "priority",
      models: { spread: { strategy: "round-robin" } },
    });
    expect(ordering.strategyFor("spread")).toBe("round-robin");
    expect(ordering.strategyFor("other")).toBe("priority");
    expect(ordering.strategyFor("toString")).toBe("priority");
    ordering.order("spread", three);
    expect(ids(ordering.order("spread", three))).toEqual(["b", "c", "a"]);
    expect(ids(ordering.order("other", three))).toEqual(["a", "b", "c"]);
  });

  it("still shuffles under the deprecated shuffle", () => {
    const ordering = new CandidateOrdering({ strategy: "shuffle", random: numbers(0, 0) });
    expect(ids(ordering.order("m", three))).toEqual(["b", "c", "a"]);
  });
});
