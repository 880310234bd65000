import { describe, expect, it } from "vitest";
import { CandidateStatistics, candidateKey, maxTrackedCandidates } from "./candidate-statistics.js";

describe("CandidateStatistics", () => {
  it("averages the time to first content of a candidate, the same updated again and again", () => {
    const statistics = new CandidateStatistics();
    statistics.recordFirstContent("a", "m", 100);
    statistics.recordFirstContent("a", "m", 200);
    statistics.recordFirstContent("a", "m", 200);
    expect(statistics.latencyOf("a", "m")).toBeCloseTo(100 + 0.3 * 100 + 0.3 * (200 - 130));
    expect(statistics.latencyOf("a", "other")).toBeUndefined();
  });

  it("forgets the least recently updated candidate past the cap, never one updated last", () => {
    const statistics = new CandidateStatistics();
    statistics.recordFirstContent("a", "first", 10);
    statistics.recordFirstContent("a", "second", 10);
    statistics.recordFirstContent("a", "first", 20);
    statistics.recordFirstContent("a", "first", 30);
    for (let index = 0; index < maxTrackedCandidates - 1; index++)
      statistics.recordFirstContent("b", `model-${index}`, 1);
    expect(statistics.latency.size).toBe(maxTrackedCandidates);
    expect(statistics.latencyOf("a", "second")).toBeUndefined();
    expect(statistics.latencyOf("a", "first")).toBeDefined();
  });

  it("counts the attempts in flight per candidate, each ended once", () => {
    const statistics = new CandidateStatistics();
    const first = statistics.begin("a", "m");
    const second = statistics.begin("a", "m");
    expect(statistics.inFlightOf("a", "m")).toBe(2);
    first();
    first();
    expect(statistics.inFlightOf("a", "m")).toBe(1);
    second();
    expect(statistics.inFlightOf("a", "m")).toBe(0);
    expect(statistics.inFlight.size).toBe(0);
  });

  it("shows only the candidates with attempts in flight, however often one began and ended", () => {
    const statistics = new CandidateStatistics();
    for (let round = 0; round < 3; round++) statistics.begin("a", "m")();
    const held = statistics.begin("b", "m");
    expect([...statistics.inFlight]).toEqual([["b\u0000m", 1]]);
    const again = statistics.begin("a", "m");
    expect(statistics.inFlightOf("a", "m")).toBe(1);
    held();
    again();
    expect(statistics.inFlight.size).toBe(0);
    expect(statistics.inFlightOf("a", "m")).toBe(0);
  });

  it("keys a candidate by its provider and model, the same key each time", () => {
    expect(candidateKey("a", "m")).toBe("a\u0000m");
    expect(candidateKey("a", "m")).toBe(candidateKey("a", "m"));
    expect(candidateKey("a\u0000b", "c")).toBe("a\u0000b\u0000c");
  });
});
