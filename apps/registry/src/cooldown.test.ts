import { describe, expect, it } from "vitest";
import { CooldownTracker } from "./cooldown.js";

function tracker() {
  let now = 1_000_000;
  const cooldown = new CooldownTracker(
    { failureThreshold: 3, durationMs: 5_000, maxDurationMs: 60_000, honorRetryAfter: true },
    () => now,
  );
  return { cooldown, advance: (ms: number) => (now += ms) };
}

describe("CooldownTracker", () => {
  it("starts a cooldown after the threshold of consecutive failures", () => {
    const { cooldown } = tracker();
    expect(cooldown.recordFailure("a", "boom")).toBe(0);
    expect(cooldown.recordFailure("a", "boom")).toBe(0);
    expect(cooldown.remainingMs("a")).toBe(0);
    expect(cooldown.recordFailure("a", "boom")).toBe(5_000);
    expect(cooldown.remainingMs("a")).toBe(5_000);
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
    expect(cooldown.recordFailure("a", "rate limited", 20)).toBe(20_000);
    expect(cooldown.recordFailure("b", "rate limited", 600)).toBe(60_000);
    expect(cooldown.recordFailure("c", "rate limited", 1)).toBe(5_000);
  });

  it("keeps providers apart", () => {
    const { cooldown } = tracker();
    for (let index = 0; index < 3; index++) cooldown.recordFailure("a", "boom");
    expect(cooldown.remainingMs("b")).toBe(0);
    expect(cooldown.health("b").consecutiveFailures).toBe(0);
  });
});
