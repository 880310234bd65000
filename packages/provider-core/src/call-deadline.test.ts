import { describe, expect, it } from "vitest";
import { CallDeadline } from "./call-deadline.js";
import { TimeoutError } from "./provider-errors.js";

describe("CallDeadline", () => {
  it("gives each attempt what is left of the call's time", () => {
    const deadline = new CallDeadline("Example", 1000, 5000);
    expect(deadline.remainingMs(5000)).toBe(1000);
    expect(deadline.remainingMs(5600)).toBe(400);
  });

  it("throws a TimeoutError that is not retryable once the time is used up", () => {
    const deadline = new CallDeadline("Example", 1000, 5000);
    let caught: unknown;
    try {
      deadline.remainingMs(6000);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TimeoutError);
    expect(caught).toMatchObject({
      phase: "total",
      timeoutMs: 1000,
      retryable: false,
      provider: "Example",
    });
  });
});
