import { describe, expect, it } from "vitest";
import { RequestAbort, waitUnlessAborted } from "./request-abort.js";

describe("RequestAbort", () => {
  it("tells each listener once, in order, and remembers the reason", () => {
    const abort = new RequestAbort();
    const heard: string[] = [];
    abort.addEventListener("abort", () => heard.push("first"));
    abort.addEventListener("abort", () => heard.push("second"));
    const removed = () => heard.push("removed");
    abort.addEventListener("abort", removed);
    abort.removeEventListener("abort", removed);
    const reason = new Error("gone");
    abort.abort(reason);
    abort.abort(new Error("again"));
    expect(heard).toEqual(["first", "second"]);
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe(reason);
  });

  it("does not keep listeners added after the abort", () => {
    const abort = new RequestAbort();
    abort.abort(undefined);
    const heard: string[] = [];
    abort.addEventListener("abort", () => heard.push("late"));
    abort.abort(undefined);
    expect(heard).toEqual([]);
  });
});

describe("waitUnlessAborted", () => {
  it("waits the delay when nothing aborts", async () => {
    const abort = new RequestAbort();
    await expect(waitUnlessAborted(5, abort, () => new Error("aborted"))).resolves.toBeUndefined();
  });

  it("ends the wait at once with the abort's error, also with a plain AbortSignal", async () => {
    const abort = new RequestAbort();
    const waiting = waitUnlessAborted(60_000, abort, () => new Error("left"));
    abort.abort(undefined);
    await expect(waiting).rejects.toThrow("left");
    const controller = new AbortController();
    const waitingOnSignal = waitUnlessAborted(60_000, controller.signal, () => new Error("gone"));
    controller.abort();
    await expect(waitingOnSignal).rejects.toThrow("gone");
    await expect(
      waitUnlessAborted(60_000, controller.signal, () => new Error("already")),
    ).rejects.toThrow("already");
  });
});
