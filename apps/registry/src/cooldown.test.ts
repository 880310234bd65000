import { describe, expect, it } from "vitest";
import { type CooldownSettings, CooldownTracker, defaultCooldownSettings } from "./cooldown.js";

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
    expect(cooldown.recordFailure("a", "boom")).toBe(0);
    expect(cooldown.recordFailure("a", "boom")).toBe(0);
    expect(cooldown.remainingMs("a")).toBe(0);
    expect(cooldown.recordFailure("a", "boom")).toBe(5_000);
    expect(cooldown.remainingMs("a")).toBe(5_000);
    expect(cooldown.remainingMs("a", "any client")).toBe(5_000);
  });

  it("resets the count on a success", () => {
    const { cooldown } = tracker();
    cooldown.recordFailure("a", "boom");
    cooldown.recordFailure("a", "boom");
    cooldown.recordSuccess("a");
    expect(cooldown.recordFailure("a", "boom")).toBe(0);
    expect(cooldown.health("a")).toMatchObject({
      consecutiveFailures: 1,
      successes: 1,
      failures: 3,
    });
  });

  it("ends the cooldown after its duration, and one more failure starts the next", () => {
    const { cooldown, advance } = tracker();
    for (let index = 0; index < 3; index++) cooldown.recordFailure("a", "boom");
    advance(5_001);
    expect(cooldown.remainingMs("a")).toBe(0);
    expect(cooldown.recordFailure("a", "boom again")).toBe(5_000);
  });

  it("waits for a longer retry-after at once, capped at the maximum", () => {
    const { cooldown } = tracker();
    expect(cooldown.recordFailure("a", "rate limited", { retryAfterSeconds: 20 })).toBe(20_000);
    expect(cooldown.recordFailure("b", "rate limited", { retryAfterSeconds: 600 })).toBe(60_000);
    expect(cooldown.recordFailure("c", "rate limited", { retryAfterSeconds: 1 })).toBe(5_000);
  });

  it("keeps providers apart", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < 3; index++) cooldown.recordFailure("a", "boom");
    expect(cooldown.remainingMs("b")).toBe(0);
    expect(cooldown.health("b").consecutiveFailures).toBe(0);
  });
});

describe("CooldownTracker between clients", () => {
  it("cools a provider down only for the one client whose requests keep failing", () => {
    const { cooldown } = tracker();
    expect(cooldown.recordFailure("a", "timeout", { client: "mallory" })).toBe(0);
    expect(cooldown.recordFailure("a", "timeout", { client: "mallory" })).toBe(0);
    expect(cooldown.recordFailure("a", "timeout", { client: "mallory" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "mallory")).toBe(5_000);
    expect(cooldown.remainingMs("a", "alice")).toBe(0);
    expect(cooldown.remainingMs("a")).toBe(0);
    expect(cooldown.clientsCoolingDown("a")).toBe(1);
    // However many more failures it sends, it stays one client.
    for (let index = 0; index < 20; index++)
      cooldown.recordFailure("a", "timeout", { client: "mallory" });
    expect(cooldown.remainingMs("a", "alice")).toBe(0);
    expect(cooldown.health("a").consecutiveFailures).toBe(23);
  });

  it("cools a provider down for everyone once failures come from two distinct clients", () => {
    const { cooldown } = tracker();
    cooldown.recordFailure("a", "down", { client: "alice" });
    cooldown.recordFailure("a", "down", { client: "alice" });
    expect(cooldown.recordFailure("a", "down", { client: "bob" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "carol")).toBe(5_000);
    expect(cooldown.remainingMs("a")).toBe(5_000);
  });

  it("still needs the failure threshold when the clients are distinct", () => {
    const { cooldown } = tracker();
    cooldown.recordFailure("a", "down", { client: "alice" });
    expect(cooldown.recordFailure("a", "down", { client: "bob" })).toBe(0);
    expect(cooldown.remainingMs("a", "carol")).toBe(0);
    expect(cooldown.recordFailure("a", "down", { client: "carol" })).toBe(5_000);
  });

  it("forgets the failing clients on a success from anyone, but not a client's own cooldown", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < 3; index++)
      cooldown.recordFailure("a", "timeout", { client: "mallory" });
    cooldown.recordFailure("a", "down", { client: "bob" });
    cooldown.recordSuccess("a", { client: "alice" });
    // bob's failure before the success is forgotten: mallory alone again.
    cooldown.recordFailure("a", "timeout", { client: "mallory" });
    cooldown.recordFailure("a", "timeout", { client: "mallory" });
    cooldown.recordFailure("a", "timeout", { client: "mallory" });
    expect(cooldown.remainingMs("a", "alice")).toBe(0);
    expect(cooldown.remainingMs("a", "mallory")).toBe(5_000);
    cooldown.recordSuccess("a", { client: "mallory" });
    expect(cooldown.remainingMs("a", "mallory")).toBe(0);
  });

  it("takes an upstream's retry-after as meant for everyone, whichever client's request received it", () => {
    const { cooldown } = tracker();
    expect(
      cooldown.recordFailure("a", "rate limited", { client: "mallory", retryAfterSeconds: 8 }),
    ).toBe(8_000);
    expect(cooldown.remainingMs("a", "alice")).toBe(8_000);
  });

  it("keeps the rule of old with minDistinctClients 1", () => {
    const { cooldown } = tracker({ minDistinctClients: 1 });
    for (let index = 0; index < 3; index++)
      cooldown.recordFailure("a", "down", { client: "alice" });
    expect(cooldown.remainingMs("a", "bob")).toBe(5_000);
  });

  it("keeps at most maxTrackedClients per provider, forgetting the least recent", () => {
    const { cooldown } = tracker({
      maxTrackedClients: 2,
      failureThreshold: 2,
      minDistinctClients: 1000,
    });
    cooldown.recordFailure("a", "down", { client: "first" });
    cooldown.recordFailure("a", "down", { client: "second" });
    cooldown.recordFailure("a", "down", { client: "third" });
    // "first" was forgotten when "third" came: its next failure is its first again.
    expect(cooldown.recordFailure("a", "down", { client: "first" })).toBe(0);
    expect(cooldown.recordFailure("a", "down", { client: "third" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "third")).toBe(5_000);
    expect(cooldown.remainingMs("a", "first")).toBe(0);
  });

  it("recovers a dead upstream's cooldown for everyone, and sets it again on the next failure", () => {
    const { cooldown, advance } = tracker();
    cooldown.recordFailure("a", "down", { client: "alice" });
    cooldown.recordFailure("a", "down", { client: "bob" });
    cooldown.recordFailure("a", "down", { client: "carol" });
    expect(cooldown.remainingMs("a", "dave")).toBe(5_000);
    advance(5_000);
    expect(cooldown.remainingMs("a", "dave")).toBe(0);
    expect(cooldown.recordFailure("a", "still down", { client: "dave" })).toBe(5_000);
    expect(cooldown.remainingMs("a", "erin")).toBe(5_000);
  });
});

describe("CooldownTracker's view of prompt sizes", () => {
  it("calls a prompt much larger than the recent successful ones so, above the minimum size", () => {
    const { cooldown } = tracker();
    cooldown.recordSuccess("a", { promptCharacters: 2_000 });
    cooldown.recordSuccess("a", { promptCharacters: 20_000 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", 400_000)).toBe(true);
    expect(cooldown.isMuchLargerThanRecentPrompts("a", 80_000)).toBe(false);
    expect(cooldown.isMuchLargerThanRecentPrompts("b", 400_000)).toBe(false);
  });

  it("never calls a prompt below the minimum size much larger, however small the recent ones", () => {
    const { cooldown } = tracker();
    cooldown.recordSuccess("a", { promptCharacters: 2 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", 32_767)).toBe(false);
    expect(cooldown.isMuchLargerThanRecentPrompts("a", 32_768)).toBe(true);
  });

  it("compares with the last 32 successes only, and can be turned off", () => {
    const { cooldown } = tracker();
    cooldown.recordSuccess("a", { promptCharacters: 500_000 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", 400_000)).toBe(false);
    for (let index = 0; index < 32; index++) cooldown.recordSuccess("a", { promptCharacters: 100 });
    expect(cooldown.isMuchLargerThanRecentPrompts("a", 400_000)).toBe(true);
    const off = tracker({ largePromptFactor: 0 }).cooldown;
    off.recordSuccess("a", { promptCharacters: 100 });
    expect(off.isMuchLargerThanRecentPrompts("a", 400_000)).toBe(false);
  });
});
