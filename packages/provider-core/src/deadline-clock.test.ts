import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineClock } from "./deadline-clock.js";
import { type DeadlineHandlers, DeadlineTimer } from "./deadline-timer.js";

// Fake timers (setTimeout and performance.now move together, only when the test says).
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});
const sleep = (milliseconds: number) => vi.advanceTimersByTimeAsync(milliseconds);

/** Handlers that record `name:phase` / `name:total` at the fake time they fire. */
function recording(
  name: string,
  fired: string[],
  onPhase: () => number | undefined = () => undefined,
) {
  const started = performance.now();
  const handlers: DeadlineHandlers = {
    onPhase: () => {
      fired.push(`${name}:phase@${performance.now() - started}`);
      return onPhase();
    },
    onTotal: () => {
      fired.push(`${name}:total@${performance.now() - started}`);
    },
  };
  return handlers;
}

describe("DeadlineClock", () => {
  it("runs the deadlines of two layers on one timer, each firing its own handler on time", async () => {
    const fired: string[] = [];
    const clock = new DeadlineClock();
    new DeadlineTimer(50, 10_000, recording("attempt", fired), clock);
    new DeadlineTimer(20, 10_000, recording("call", fired), clock);
    expect(vi.getTimerCount()).toBe(1);
    await sleep(100);
    expect(fired).toEqual(["call:phase@20", "attempt:phase@50"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("expires deadlines due at once soonest first, each once, and not one an earlier one took off", async () => {
    const clock = new DeadlineClock();
    const expired: string[] = [];
    const now = performance.now();
    /** A deadline due at `due` that records its name and then leaves the clock. */
    const deadline = (name: string, due: number, onExpire: () => void = () => {}) => {
      const entry = {
        due,
        expire: () => {
          expired.push(name);
          entry.due = Number.POSITIVE_INFINITY;
          clock.remove(entry);
          onExpire();
        },
      };
      return entry;
    };
    // When the timer runs (1 ms from now), all three are past: the soonest ends the call.
    const later = deadline("call", now + 1);
    const soonest = deadline("attempt", now - 5, () => {
      later.due = Number.POSITIVE_INFINITY;
      clock.remove(later);
    });
    const middle = deadline("other", now - 2);
    clock.add(later, now);
    clock.add(middle, now);
    clock.add(soonest, now);
    await sleep(5);
    expect(expired).toEqual(["attempt", "other"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("costs no timer operation for a deadline moved later: the timer fires early once and arms for what is left", async () => {
    const fired: string[] = [];
    const clock = new DeadlineClock();
    const attempt = new DeadlineTimer(40, 10_000, recording("attempt", fired), clock);
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    for (let step = 0; step < 30; step++) {
      await sleep(1);
      attempt.movePhase(40);
    }
    expect(setTimeoutSpy).not.toHaveBeenCalled();
    await sleep(20);
    // The early firing at 40 ms found nothing due and armed once for the moved deadline.
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    expect(fired).toEqual([]);
    await sleep(20);
    expect(fired).toEqual(["attempt:phase@70"]);
    setTimeoutSpy.mockRestore();
  });

  it("re-arms sooner for a deadline that joins or moves sooner than the armed time", async () => {
    const fired: string[] = [];
    const clock = new DeadlineClock();
    new DeadlineTimer(1_000, 10_000, recording("attempt", fired), clock);
    const call = new DeadlineTimer(
      5_000,
      10_000,
      recording("call", fired, () => 5_000),
      clock,
    );
    call.movePhase(10);
    await sleep(15);
    expect(fired).toEqual(["call:phase@10"]);
    await sleep(1_000);
    expect(fired).toEqual(["call:phase@10", "attempt:phase@1000"]);
  });

  it("fires the total deadline of each layer, and stops its timer once the last deadline is off", async () => {
    const fired: string[] = [];
    const clock = new DeadlineClock();
    const attempt = new DeadlineTimer(1_000, 60, recording("attempt", fired), clock);
    new DeadlineTimer(
      30,
      40,
      recording("call", fired, () => 30),
      clock,
    );
    await sleep(100);
    expect(fired).toEqual(["call:phase@30", "call:total@40", "attempt:total@60"]);
    expect(vi.getTimerCount()).toBe(0);
    const stopped = new DeadlineTimer(10, 20, recording("stopped", fired), clock);
    expect(vi.getTimerCount()).toBe(1);
    stopped.stop();
    attempt.stop();
    expect(vi.getTimerCount()).toBe(0);
    await sleep(60);
    expect(fired).toHaveLength(3);
  });

  it("arms its timer again for the deadlines left when a handler throws", async () => {
    const fired: string[] = [];
    const clock = new DeadlineClock();
    new DeadlineTimer(
      10_000,
      20,
      {
        onPhase: () => undefined,
        onTotal: () => {
          throw new Error("handler failed");
        },
      },
      clock,
    );
    new DeadlineTimer(10_000, 50, recording("other", fired), clock);
    const failures: unknown[] = [];
    // The throw leaves the timer's callback as an uncaught error; vitest's fake timers rethrow it.
    await sleep(20).catch((error: unknown) => failures.push(error));
    expect(failures).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1);
    await sleep(40);
    expect(fired).toEqual(["other:total@50"]);
  });
});
