import { describe, expect, it } from "vitest";
import {
  type CooldownSettings,
  CooldownTracker,
  defaultCooldownSettings,
  maxTrackedModelsPerProvider,
} from "./cooldown.js";

function tracker(settings: Partial<CooldownSettings> = {}) {
  let now = 1_000_000;
  const cooldown = new CooldownTracker(
    { ...defaultCooldownSettings, failureThreshold: 3, durationMs: 5_000, ...settings },
    () => now,
  );
  return { cooldown, advance: (ms: number) => (now += ms) };
}

describe("CooldownTracker", () => {
  it("starts a cooldown after the threshold of consecutive failures of the process itself", () => {
    const { cooldown } = tracker();
    expect(cooldown.recordFailure("a", "m", "boom")).toBe(0);
    expect(cooldown.recordFailure("a", "m", "boom")).toBe(0);
    expect(cooldown.remainingMs("a", "m")).toBe(0);
    expect(cooldown.recordFailure("a", "m", "boom")).toBe(5_000);
    expect(cooldown.remainingMs("a", "m")).toBe(5_000);
    expect(cooldown.remainingMs("a", "m", "any client")).toBe(5_000);
  });

  it("resets the count on a success", () => {
    const { cooldown } = tracker();
    cooldown.recordFailure("a", "m", "boom");
    cooldown.recordFailure("a", "m", "boom");
    cooldown.recordSuccess("a", "m");
    expect(cooldown.recordFailure("a", "m", "boom")).toBe(0);
    expect(cooldown.health("a", "m")).toMatchObject({
      consecutiveFailures: 1,
      successes: 1,
      failures: 3,
    });
  });

  it("ends the cooldown after its duration, and one more failure starts the next", () => {
    const { cooldown, advance } = tracker();
    for (let index = 0; index < 3; index++) cooldown.recordFailure("a", "m", "boom");
    advance(5_001);
    expect(cooldown.remainingMs("a", "m")).toBe(0);
    expect(cooldown.recordFailure("a", "m", "boom again")).toBe(5_000);
  });

  it("waits for a longer retry-after at once, capped at the maximum", () => {
    const { cooldown } = tracker();
    expect(cooldown.recordFailure("a", "m", "rate limited", { retryAfterSeconds: 20 })).toBe(
      20_000,
    );
    expect(cooldown.recordFailure("b", "m", "rate limited", { retryAfterSeconds: 600 })).toBe(
      60_000,
    );
    expect(cooldown.recordFailure("c", "m", "rate limited", { retryAfterSeconds: 1 })).toBe(5_000);
  });

  it("keeps providers apart", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < 3; index++) cooldown.recordFailure("a", "m", "boom");
    expect(cooldown.remainingMs("b", "m")).toBe(0);
    expect(cooldown.health("b", "m").consecutiveFailures).toBe(0);
  });
});

describe("CooldownTracker per model", () => {
  it("keeps the models of one provider apart: one model's failures leave the others to be tried", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < 3; index++) cooldown.recordFailure("a", "chat", "boom");
    expect(cooldown.remainingMs("a", "chat")).toBe(5_000);
    expect(cooldown.remainingMs("a", "image")).toBe(0);
    expect(cooldown.health("a", "image").consecutiveFailures).toBe(0);
    cooldown.recordSuccess("a", "image");
    expect(cooldown.remainingMs("a", "chat")).toBe(5_000);
  });

  it("counts a client's failures and the distinct clients per model", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < 3; index++)
      cooldown.recordFailure("a", "chat", "timeout", { client: "mallory" });
    expect(cooldown.remainingMs("a", "chat", "mallory")).toBe(5_000);
    expect(cooldown.remainingMs("a", "other", "mallory")).toBe(0);
    expect(cooldown.clientsCoolingDown("a", "chat")).toBe(1);
    expect(cooldown.clientsCoolingDown("a", "other")).toBe(0);
    // A second client failing on another model is no second witness for this one.
    cooldown.recordFailure("a", "other", "timeout", { client: "alice" });
    expect(cooldown.remainingMs("a", "chat", "bob")).toBe(0);
    cooldown.recordFailure("a", "chat", "timeout", { client: "alice" });
    expect(cooldown.remainingMs("a", "chat", "bob")).toBe(5_000);
  });

  it("says whether a success would clear failures, which replicas tell each other of", () => {
    const { cooldown } = tracker();
    expect(cooldown.hasFailuresToClear("a", "m")).toBe(false);
    cooldown.recordFailure("a", "m", "boom", { client: "alice" });
    expect(cooldown.hasFailuresToClear("a", "m")).toBe(true);
    cooldown.recordSuccess("a", "m", { client: "bob" });
    expect(cooldown.hasFailuresToClear("a", "m")).toBe(false);
    // Alice's own count is still there: her success would clear it.
    expect(cooldown.hasFailuresToClear("a", "m", "alice")).toBe(true);
  });

  it("lists the health of every model used, by name", () => {
    const { cooldown } = tracker();
    cooldown.recordSuccess("a", "zeta");
    cooldown.recordFailure("a", "alpha", "boom");
    expect(cooldown.modelsHealth("a").map((health) => [health.model, health.failures])).toEqual([
      ["alpha", 1],
      ["zeta", 0],
    ]);
    expect(cooldown.modelsHealth("b")).toEqual([]);
  });

  it("forgets the least recently used model past the cap, so any number of model names stays bounded", () => {
    const { cooldown } = tracker();
    for (let index = 0; index <= maxTrackedModelsPerProvider; index++)
      cooldown.recordFailure("a", `model-${index}`, "boom");
    expect(cooldown.modelsHealth("a")).toHaveLength(maxTrackedModelsPerProvider);
    expect(cooldown.health("a", "model-0").failures).toBe(0);
    expect(cooldown.health("a", `model-${maxTrackedModelsPerProvider}`).failures).toBe(1);
  });

  it("keeps a model used again, also twice in a row, and forgets the next least recent one past the cap", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < maxTrackedModelsPerProvider; index++)
      cooldown.recordFailure("a", `model-${index}`, "boom");
    cooldown.recordSuccess("a", "model-0");
    cooldown.recordSuccess("a", "model-0");
    cooldown.recordFailure("a", "model-new", "boom");
    expect(cooldown.health("a", "model-0").successes).toBe(2);
    expect(cooldown.health("a", "model-1").failures).toBe(0);
    expect(cooldown.health("a", "model-2").failures).toBe(1);
    expect(cooldown.modelsHealth("a")).toHaveLength(maxTrackedModelsPerProvider);
  });
});

describe("CooldownTracker between clients", () => {
  it("cools a provider down only for the one client whose requests keep failing", () => {
    const { cooldown } = tracker();
    expect(cooldown.recordFailure("a", "m", "timeout", { client: "mallory" })).toBe(0);
    expect(cooldown.recordFailure("a", "m", "timeout", { client: "mallory" })).toBe(0);
    expect(cooldown.recordFailure("a", "m", "timeout", { client: "mallory" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "m", "mallory")).toBe(5_000);
    expect(cooldown.remainingMs("a", "m", "alice")).toBe(0);
    expect(cooldown.remainingMs("a", "m")).toBe(0);
    expect(cooldown.clientsCoolingDown("a", "m")).toBe(1);
    // However many more failures it sends, it stays one client.
    for (let index = 0; index < 20; index++)
      cooldown.recordFailure("a", "m", "timeout", { client: "mallory" });
    expect(cooldown.remainingMs("a", "m", "alice")).toBe(0);
    expect(cooldown.health("a", "m").consecutiveFailures).toBe(23);
  });

  it("cools a provider down for everyone once failures come from two distinct clients", () => {
    const { cooldown } = tracker();
    cooldown.recordFailure("a", "m", "down", { client: "alice" });
    cooldown.recordFailure("a", "m", "down", { client: "alice" });
    expect(cooldown.recordFailure("a", "m", "down", { client: "bob" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "m", "carol")).toBe(5_000);
    expect(cooldown.remainingMs("a", "m")).toBe(5_000);
  });

  it("still needs the failure threshold when the clients are distinct", () => {
    const { cooldown } = tracker();
    cooldown.recordFailure("a", "m", "down", { client: "alice" });
    expect(cooldown.recordFailure("a", "m", "down", { client: "bob" })).toBe(0);
    expect(cooldown.remainingMs("a", "m", "carol")).toBe(0);
    expect(cooldown.recordFailure("a", "m", "down", { client: "carol" })).toBe(5_000);
  });

  it("forgets the failing clients on a success from anyone, but not a client's own cooldown", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < 3; index++)
      cooldown.recordFailure("a", "m", "timeout", { client: "mallory" });
    cooldown.recordFailure("a", "m", "down", { client: "bob" });
    cooldown.recordSuccess("a", "m", { client: "alice" });
    // bob's failure before the success is forgotten: mallory alone again.
    cooldown.recordFailure("a", "m", "timeout", { client: "mallory" });
    cooldown.recordFailure("a", "m", "timeout", { client: "mallory" });
    cooldown.recordFailure("a", "m", "timeout", { client: "mallory" });
    expect(cooldown.remainingMs("a", "m", "alice")).toBe(0);
    expect(cooldown.remainingMs("a", "m", "mallory")).toBe(5_000);
    cooldown.recordSuccess("a", "m", { client: "mallory" });
    expect(cooldown.remainingMs("a", "m", "mallory")).toBe(0);
  });

  it("takes an upstream's retry-after as meant for everyone, whichever client's request received it", () => {
    const { cooldown } = tracker();
    expect(
      cooldown.recordFailure("a", "m", "rate limited", { client: "mallory", retryAfterSeconds: 8 }),
    ).toBe(8_000);
    expect(cooldown.remainingMs("a", "m", "alice")).toBe(8_000);
  });

  it("keeps the rule of old with minDistinctClients 1", () => {
    const { cooldown } = tracker({ minDistinctClients: 1 });
    for (let index = 0; index < 3; index++)
      cooldown.recordFailure("a", "m", "down", { client: "alice" });
    expect(cooldown.remainingMs("a", "m", "bob")).toBe(5_000);
  });

  it("keeps at most maxTrackedClients per provider, forgetting the least recent", () => {
    const { cooldown } = tracker({
      maxTrackedClients: 2,
      failureThreshold: 2,
      minDistinctClients: 1000,
    });
    cooldown.recordFailure("a", "m", "down", { client: "first" });
    cooldown.recordFailure("a", "m", "down", { client: "second" });
    cooldown.recordFailure("a", "m", "down", { client: "third" });
    // "first" was forgotten when "third" came: its next failure is its first again.
    expect(cooldown.recordFailure("a", "m", "down", { client: "first" })).toBe(0);
    expect(cooldown.recordFailure("a", "m", "down", { client: "third" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "m", "third")).toBe(5_000);
    expect(cooldown.remainingMs("a", "m", "first")).toBe(0);
  });

  it("recovers a dead upstream's cooldown for everyone, and sets it again on the next failure", () => {
    const { cooldown, advance } = tracker();
    cooldown.recordFailure("a", "m", "down", { client: "alice" });
    cooldown.recordFailure("a", "m", "down", { client: "bob" });
    cooldown.recordFailure("a", "m", "down", { client: "carol" });
    expect(cooldown.remainingMs("a", "m", "dave")).toBe(5_000);
    advance(5_000);
    expect(cooldown.remainingMs("a", "m", "dave")).toBe(0);
    expect(cooldown.recordFailure("a", "m", "still down", { client: "dave" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "m", "erin")).toBe(5_000);
  });
});

describe("CooldownTracker's view of prompt sizes", () => {
  it("calls a prompt much larger than the recent successful ones so, above the minimum size", () => {
    const { cooldown } = tracker();
    cooldown.recordSuccess("a", "m", { promptCharacters: 2_000 });
    cooldown.recordSuccess("a", "m", { promptCharacters: 20_000 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", "m", 400_000)).toBe(true);
    expect(cooldown.isMuchLargerThanRecentPrompts("a", "m", 80_000)).toBe(false);
    expect(cooldown.isMuchLargerThanRecentPrompts("b", "m", 400_000)).toBe(false);
  });

  it("never calls a prompt below the minimum size much larger, however small the recent ones", () => {
    const { cooldown } = tracker();
    cooldown.recordSuccess("a", "m", { promptCharacters: 2 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", "m", 32_767)).toBe(false);
    expect(cooldown.isMuchLargerThanRecentPrompts("a", "m", 32_768)).toBe(true);
  });

  it("compares with the last 32 successes only, and can be turned off", () => {
    const { cooldown } = tracker();
    cooldown.recordSuccess("a", "m", { promptCharacters: 500_000 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", "m", 400_000)).toBe(false);
    for (let index = 0; index < 32; index++)
      cooldown.recordSuccess("a", "m", { promptCharacters: 100 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", "m", 400_000)).toBe(true);
    const off = tracker({ largePromptFactor: 0 }).cooldown;
    off.recordSuccess("a", "m", { promptCharacters: 100 });
    expect(off.isMuchLargerThanRecentPrompts("a", "m", 400_000)).toBe(false);
  });
});
