import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineTimer } from "./deadline-timer.js";

// Fake timers (setTimeout and performance.now move together, only when the test says):
// "15 ms later, still not fired" holds on a loaded machine too.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});
const sleep = (milliseconds: number) => vi.advanceTimersByTimeAsync(milliseconds);

describe("DeadlineTimer", () => {
  it("fires the phase deadline when nothing moves it", async () => {
    const fired: string[] = [];
    new DeadlineTimer(20, 10_000, {
      onPhase: () => {
        fired.push("phase");
        return undefined;
      },
      onTotal: () => fired.push("total"),
    });
    await sleep(80);
    expect(fired).toEqual(["phase"]);
  });

  it("re-arms for a phase deadline moved sooner than the armed one", async () => {
    const fired: number[] = [];
    const started = performance.now();
    const timer = new DeadlineTimer(10_000, 20_000, {
      onPhase: () => {
        fired.push(performance.now() - started);
        return undefined;
      },
      onTotal: () => fired.push(-1),
    });
    timer.movePhase(20);
    await sleep(150);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBe(20);
  });

  it("moves a later phase deadline without firing early, and extends it when the handler asks", async () => {
    const calls: string[] = [];
    let extensions = 0;
    const timer = new DeadlineTimer(30, 10_000, {
      onPhase: () => {
        calls.push("phase");
        return extensions++ === 0 ? 30 : undefined;
      },
      onTotal: () => calls.push("total"),
    });
    for (let step = 0; step < 4; step++) {
      await sleep(15);
      timer.movePhase(30);
    }
    expect(calls).toEqual([]);
    await sleep(150);
    expect(calls).toEqual(["phase", "phase"]);
  });

  it("fires the total deadline however often the phase moves, and nothing after stop", async () => {
    const calls: string[] = [];
    const timer = new DeadlineTimer(30, 60, {
      onPhase: () => 30,
      onTotal: () => calls.push("total"),
    });
    const mover = setInterval(() => timer.movePhase(30), 10);
    await sleep(150);
    clearInterval(mover);
    expect(calls).toEqual(["total"]);
    const stopped = new DeadlineTimer(10, 20, {
      onPhase: () => {
        calls.push("phase after stop");
        return undefined;
      },
      onTotal: () => calls.push("total after stop"),
    });
    stopped.stop();
    await sleep(60);
    expect(calls).toEqual(["total"]);
  });
});
